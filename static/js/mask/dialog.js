// The editor's dialog: cloned from the page's <template id="mask-editor-template">, and
// rendering what the other modules change (view, cursor, brush size, tool, toggles).
import { editor } from "./context.js";
import { percentLabel } from "./view.js";
import { sizeDot } from "./brush.js";

const IS_MAC = /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent || "");

export function createDialog() {
  const template = document.getElementById("mask-editor-template");
  if (!template) throw new Error("The page has no mask editor template.");
  const dialog = template.content.firstElementChild.cloneNode(true);
  if (IS_MAC) {
    dialog.querySelectorAll("[data-me-mod]").forEach((node) => {
      if (node.title) node.title = node.title.replaceAll("Ctrl", "⌘");
      if (!node.children.length) node.textContent = node.textContent.replaceAll("Ctrl", "⌘");
    });
  }
  document.body.appendChild(dialog);
  const q = (selector) => dialog.querySelector(selector);
  editor.ui = {
    dialog,
    stage: q("[data-me-stage]"),
    world: q("[data-me-world]"),
    image: q("[data-me-image]"),
    cursor: q("[data-me-cursor]"),
    loading: q("[data-me-loading]"),
    restore: q("[data-me-restore]"),
    restoreText: q("[data-me-restore-text]"),
    help: q("[data-me-help]"),
    helpButton: q("[data-action=help]"),
    size: q("[data-me-size]"),
    sizeOut: q("[data-me-size-out]"),
    sizeDot: q("[data-me-size-dot]"),
    zoom: q("[data-me-zoom]"),
    meta: q("[data-me-meta]"),
    coverage: q("[data-me-coverage]"),
    apply: q("[data-action=apply]"),
    undo: q("[data-action=undo]"),
    redo: q("[data-action=redo]"),
    clear: q("[data-action=clear]"),
    invert: q("[data-action=invert]"),
    original: q("[data-action=original]"),
  };
  return editor.ui;
}

export function renderView() {
  const { ui, view } = editor;
  ui.world.style.transform = `translate(${view.tx}px,${view.ty}px) scale(${view.scale})`;
  ui.world.classList.toggle("is-pixelated", view.scale >= 2);
  ui.zoom.textContent = percentLabel(view);
  const percent = Math.round(view.scale * 100);
  ui.zoom.setAttribute("aria-label", `Zoom ${percent} percent: toggle fit and 100 percent`);
  renderCursor();
}

// The brush outline follows the pointer; hidden while panning or with no pointer over the image.
export function renderCursor() {
  const { ui, session, input, view } = editor;
  if (!ui || !session) return;
  const hover = input.hover;
  const panning = input.tool === "hand" || input.spaceDown || input.pan || input.pinch;
  ui.stage.classList.toggle("is-pan", !!panning);
  ui.stage.classList.toggle("is-panning", !!(input.pan || input.pinch));
  if (!hover || panning || !session.width) {
    ui.cursor.hidden = true;
    ui.stage.classList.remove("hide-pointer");
    return;
  }
  const diameter = session.state.size * view.scale;
  const erasing = input.tool === "eraser" || (input.stroke && input.stroke.op.mode === "erase");
  ui.cursor.hidden = false;
  ui.cursor.classList.toggle("is-eraser", !!erasing);
  ui.cursor.classList.toggle("is-tiny", diameter < 6);
  const d = Math.max(diameter, 6);
  ui.cursor.style.width = ui.cursor.style.height = d + "px";
  ui.cursor.style.transform = `translate(${hover.x - d / 2}px,${hover.y - d / 2}px)`;
  ui.stage.classList.toggle("hide-pointer", diameter >= 6);
}

let flashTimer = 0;

// No pointer over the image (keyboard, slider): show the brush in the middle for a moment.
export function flashCursor() {
  const rect = editor.ui.stage.getBoundingClientRect();
  editor.input.hover = { x: rect.width / 2, y: rect.height / 2, flash: true };
  renderCursor();
  window.clearTimeout(flashTimer);
  flashTimer = window.setTimeout(() => {
    if (editor.input.hover && editor.input.hover.flash) {
      editor.input.hover = null;
      renderCursor();
    }
  }, 700);
}

export function renderSize(size, sliderValue) {
  const ui = editor.ui;
  if (sliderValue !== null) ui.size.value = String(sliderValue);
  ui.sizeOut.textContent = size + " px";
  ui.sizeDot.style.width = ui.sizeDot.style.height = sizeDot(size) + "px";
  renderCursor();
}

export function setTool(tool) {
  editor.input.tool = tool;
  editor.ui.dialog.querySelectorAll("[data-tool]").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
  });
  renderCursor();
}

export function toggleOriginal(force) {
  const { ui, input } = editor;
  input.showOriginal = typeof force === "boolean" ? force : !input.showOriginal;
  ui.world.classList.toggle("show-original", input.showOriginal);
  ui.original.setAttribute("aria-pressed", String(input.showOriginal));
}

export function toggleHelp(force) {
  const ui = editor.ui;
  const show = typeof force === "boolean" ? force : ui.help.hidden;
  ui.help.hidden = !show;
  ui.helpButton.setAttribute("aria-expanded", String(show));
}

// Disabling (or hiding) the focused control drops focus to <body>: hand it to the first
// usable neighbour first, else to the image, so focus stays in the dialog.
export function keepFocus(control, neighbours) {
  if (!control.contains(document.activeElement)) return;
  const usable = (b) => b && !b.disabled && !b.closest("[hidden]");
  const next = neighbours.find(usable);
  (next || editor.ui.stage).focus({ preventScroll: true });
}

export function setDisabled(button, disabled, neighbours = []) {
  if (disabled && !button.disabled) keepFocus(button, neighbours);
  button.disabled = disabled;
}

export function showRestoreOffer(count) {
  const ui = editor.ui;
  ui.restore.hidden = false;
  ui.restoreText.textContent =
    count > 0
      ? `You closed the editor without applying ${count} change${count === 1 ? "" : "s"}.`
      : "You closed the editor without applying your changes.";
}

export function hideRestoreOffer() {
  keepFocus(editor.ui.restore, []);
  editor.ui.restore.hidden = true;
}
