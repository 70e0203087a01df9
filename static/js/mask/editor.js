// The mask editor: a full-screen dialog to paint, over the FIRST reference image, the area an
// edit may change. The mask lives in a canvas at exactly the image's natural size; "Apply"
// puts a PNG, transparent where painted and opaque black elsewhere (the Images API's
// convention), into the form's `mask` file input. Loaded by index.js on first use.
import { first } from "../references/index.js";
import { editor, resetInput } from "./context.js";
import {
  createDialog,
  setTool,
  showRestoreOffer,
  toggleHelp,
  toggleOriginal,
} from "./dialog.js";
import {
  afterChange,
  clearMask,
  dismissRestore,
  fit,
  invertMask,
  onStageResized,
  redo,
  restoreDiscarded,
  setSize,
  setSizeFromSlider,
  toggleActualSize,
  undo,
  zoomBy,
} from "./actions.js";
import { abortStroke, bindPointer, endStroke } from "./pointer.js";
import { bindKeys } from "./keys.js";
import {
  commit,
  discardedCount,
  isUnchanged,
  revertUnapplied,
  snapshot,
  startFrom,
} from "./history.js";
import { replay } from "./paint.js";
import { exactFraction, exportMask, importMask, previewUrl } from "./pixels.js";
import { defaultSize, percent } from "./brush.js";
import {
  currentForm,
  hasState,
  loadImage,
  maskFile,
  resetHistory,
  setMaskFile,
  setStatus,
  stateFor,
} from "./state.js";

const APPLY_LABEL = "Apply mask";

const BUTTONS = {
  apply: () => apply(),
  cancel: () => cancel(),
  undo,
  redo,
  clear: clearMask,
  invert: invertMask,
  fit,
  "zoom-in": () => zoomBy(1, false),
  "zoom-out": () => zoomBy(-1, false),
  "zoom-toggle": toggleActualSize,
  original: () => toggleOriginal(),
  help: () => toggleHelp(),
  restore: restoreDiscarded,
  "dismiss-restore": dismissRestore,
};

function bindDialog(ui) {
  bindPointer(ui.stage);
  bindKeys({ apply, cancel });
  ui.dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape is handled in keys.js (a stroke may be in progress)
  });
  ui.dialog.addEventListener("close", () => {
    if (editor.session && !ui.dialog.open) finishSession(); // open again: a newer session
  });
  ui.size.addEventListener("input", () => setSizeFromSlider(Number(ui.size.value)));
  ui.dialog.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !editor.session) return;
    if (button.dataset.tool) setTool(button.dataset.tool);
    else if (BUTTONS[button.dataset.action]) BUTTONS[button.dataset.action]();
  });
  if (window.ResizeObserver) new ResizeObserver(onStageResized).observe(ui.stage);
}

function startSession(form, image) {
  if (!editor.ui) bindDialog(createDialog());
  const ui = editor.ui;
  const state = stateFor(form);
  if (state.key !== image.key) {
    resetHistory(state);
    state.key = image.key;
    state.size = null; // a new default suited to the new image
  }
  const opener = document.activeElement;
  editor.session = { form, state, first: image, width: 0, height: 0, opener };
  snapshot(state);
  resetInput();
  toggleOriginal(false);
  toggleHelp(false);
  ui.loading.hidden = false;
  ui.loading.textContent = "Loading the image…";
  ui.world.hidden = true;
  ui.cursor.hidden = true;
  ui.meta.textContent = image.name || "";
  ui.apply.disabled = true;
  document.documentElement.classList.add("mask-editor-open");
  ui.dialog.showModal();
  ui.stage.focus({ preventScroll: true });
  return editor.session;
}

// The image is loaded: the mask canvas at its natural size, over it.
function showImage(session, img) {
  const { ui } = editor;
  const state = session.state;
  const width = img.naturalWidth;
  const height = img.naturalHeight;
  session.width = width;
  session.height = height;
  if (!state.canvas || state.width !== width || state.height !== height) {
    state.canvas = document.createElement("canvas");
    state.canvas.width = state.width = width;
    state.canvas.height = state.height = height;
    replay(state);
  }
  state.canvas.className = "me-mask";
  ui.world.querySelectorAll("canvas").forEach((c) => c !== state.canvas && c.remove());
  if (state.canvas.parentNode !== ui.world) ui.world.appendChild(state.canvas);
  ui.world.style.width = width + "px";
  ui.world.style.height = height + "px";
  const name = session.first.name;
  ui.meta.textContent = `${name ? name + " · " : ""}${width} × ${height} px`;
  setSize(state.size || defaultSize(width, height));
  ui.loading.hidden = true;
  ui.world.hidden = false;
  ui.apply.disabled = false;
  if (state.discarded) showRestoreOffer(discardedCount(state));
  else ui.restore.hidden = true;
  fit();
  afterChange();
}

// An uploaded mask, untouched so far, is the starting point.
async function startFromUpload(session) {
  const state = session.state;
  const uploaded = maskFile(session.form);
  if (state.source !== "uploaded" || !uploaded || state.ops.length || !window.createImageBitmap) {
    return;
  }
  try {
    const op = await importMask(uploaded, session.width, session.height);
    if (editor.session !== session || state.ops.length) return;
    startFrom(state, op);
    replay(state);
    session.note = `Started from the uploaded mask ${op.name}.`;
    afterChange();
  } catch {
    // unreadable: start from nothing, as if there were no upload
  }
}

export async function open() {
  const form = currentForm();
  const image = first();
  if (!form || !image) {
    const text = "Add a reference image first: a mask applies to the first one.";
    if (form) setStatus(form, text, { tone: "warn" });
    return false;
  }
  if (editor.session) return true;
  const session = startSession(form, image);
  try {
    const img = await loadImage(editor.ui.image, image.src);
    if (editor.session !== session) return false;
    showImage(session, img);
    await startFromUpload(session);
    return true;
  } catch (error) {
    if (editor.session === session) {
      editor.ui.loading.textContent = "Could not load the first reference image. " + error.message;
    }
    return false;
  }
}

export function cancel() {
  if (!editor.session) return;
  if (editor.input.stroke) abortStroke();
  close();
}

function resetApplyButton() {
  const button = editor.ui.apply;
  button.disabled = false;
  button.removeAttribute("aria-disabled");
  button.textContent = APPLY_LABEL;
}

async function encode(session, fraction) {
  const { ui } = editor;
  // aria-disabled, not disabled: the button keeps focus while the PNG is encoded.
  session.applying = true;
  ui.apply.setAttribute("aria-disabled", "true");
  ui.apply.textContent = "Applying…";
  const state = session.state;
  const preview = previewUrl(state, ui.image);
  try {
    const blob = await exportMask(state);
    const file = new File([blob], "mask.png", { type: "image/png", lastModified: Date.now() });
    state.source = "painted";
    setMaskFile(session.form, file);
    const text = `Mask painted: ${percent(fraction)} of the image will change`;
    setStatus(session.form, text, { preview, tone: "ok" });
    ui.apply.textContent = APPLY_LABEL;
    if (editor.session === session) close();
    return true;
  } catch (error) {
    session.applying = false;
    resetApplyButton();
    ui.coverage.textContent = error.message;
    return false;
  }
}

export async function apply() {
  const session = editor.session;
  if (!session || !session.width || editor.ui.apply.disabled || session.applying) return false;
  if (editor.input.stroke) endStroke();
  const { state, form } = session;
  if (state.source === "uploaded" && isUnchanged(state)) {
    close(); // nothing changed: the uploaded file stays as it is
    return true;
  }
  const fraction = exactFraction(state);
  commit(state);
  if (fraction > 0) return encode(session, fraction);
  state.source = null;
  setMaskFile(form, null);
  const text = state.ops.length
    ? "Nothing painted, so no mask: the whole image may change."
    : state.defaultStatus;
  setStatus(form, text);
  close();
  return true;
}

export function close() {
  const ui = editor.ui;
  if (ui && ui.dialog.open) ui.dialog.close();
  // Now rather than on the queued "close" event: no key may reach a closed editor.
  if (editor.session) finishSession();
}

// Closing without Apply keeps the mask as it was; what was painted since opening can be
// brought back from a banner the next time.
function finishSession() {
  const { opener, state } = editor.session;
  if (revertUnapplied(state)) replay(state);
  editor.session = null;
  resetInput();
  resetApplyButton();
  document.documentElement.classList.remove("mask-editor-open");
  const form = currentForm();
  const back = form && form.querySelector("[data-open-mask-editor]");
  if (opener && opener.isConnected && opener.focus) opener.focus({ preventScroll: true });
  else if (back) back.focus({ preventScroll: true });
}

export function paintedFraction() {
  const form = currentForm();
  return form && hasState(form) ? exactFraction(stateFor(form)) : 0;
}

export function isOpen() {
  return !!editor.session;
}
