// The mask row of the playground's form, always on the page: the status line, the uploaded
// mask, "Remove mask", and what happens to the mask when the first reference image changes.
// The editor itself (editor.js and its modules, most of the weight, and its stylesheet)
// loads on the first "Paint a mask", from the URLs in the row's data-mask-editor-src and
// data-mask-editor-css attributes (hashed names in production).
import { first } from "../references/index.js";
import {
  currentForm,
  hasState,
  loadImage,
  maskFile,
  removeMask,
  resetHistory,
  setStatus,
  stateFor,
} from "./state.js";

const NO_REFERENCE = "Add a reference image first: a mask applies to the first one.";
const LOAD_FAILED = "The mask editor could not be loaded. Check the connection and try again.";

let editor = null; // editor.js, once loaded
let loading = null; // the promise of the editor while it loads
let attempts = 0;
let replacedStatus = null; // what a failed load replaced: {status, nodes, tone}

function maskRow() {
  return (
    document.querySelector("#generate-form [data-mask-row]") ||
    document.querySelector("[data-mask-row]")
  );
}

function loadStylesheet(href) {
  const existing = document.querySelector("link[data-mask-editor-css]");
  if (existing && existing.sheet) return Promise.resolve();
  if (existing) existing.remove();
  return new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.dataset.maskEditorCss = "";
    link.onload = () => resolve();
    link.onerror = () => {
      link.remove(); // so that another click tries again
      reject(new Error("Could not load " + href));
    };
    document.head.appendChild(link);
  });
}

// The editor's markup: a server-rendered <template>, fetched with the editor unless the page
// already has it (it is not part of the first page, which stays light).
function loadMarkup(url) {
  if (document.getElementById("mask-editor-template")) return Promise.resolve();
  if (!url) return Promise.reject(new Error("The page does not say where the editor's markup is."));
  return fetch(url, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error("Could not load " + url);
    return response.text();
  }).then((html) => {
    if (!document.getElementById("mask-editor-template")) {
      document.body.insertAdjacentHTML("beforeend", html);
    }
  });
}

// A module whose fetch failed stays failed under its URL: a retry asks under another one.
function importEditor(src) {
  const url = new URL(src, document.baseURI);
  if (attempts++) url.searchParams.set("retry", String(attempts));
  return import(url.href);
}

// The editor, loaded once; the same promise to every caller while it loads.
export function load() {
  if (editor) return Promise.resolve(editor);
  if (loading) return loading;
  const row = maskRow();
  const src = row && row.dataset.maskEditorSrc;
  const css = row && row.dataset.maskEditorCss;
  if (!src || !css) {
    return Promise.reject(new Error("The page does not say where the mask editor is."));
  }
  const markup = row.dataset.maskEditorMarkup;
  loading = Promise.all([importEditor(src), loadStylesheet(css), loadMarkup(markup)]).then(([module]) => {
    editor = module;
    return editor;
  });
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

// A failed load says so in the status line; the next successful one puts back what it said.
function showLoadFailed(form) {
  const status = form.querySelector("[data-mask-status]");
  if (status && !replacedStatus) {
    const nodes = Array.from(status.childNodes, (node) => node.cloneNode(true));
    replacedStatus = { status, nodes, tone: status.dataset.tone };
  }
  setStatus(form, LOAD_FAILED, { tone: "warn" });
}

function restoreStatus() {
  const saved = replacedStatus;
  replacedStatus = null;
  if (!saved || saved.status.textContent !== LOAD_FAILED) return; // something newer is shown
  saved.status.replaceChildren(...saved.nodes);
  if (saved.tone) saved.status.dataset.tone = saved.tone;
  else delete saved.status.dataset.tone;
}

async function openEditor(opener) {
  const form = currentForm();
  if (!form || !first()) {
    if (form) setStatus(form, NO_REFERENCE, { tone: "warn" });
    return false;
  }
  if (editor) return editor.open();
  if (opener) opener.setAttribute("aria-busy", "true");
  try {
    const loaded = await load();
    restoreStatus();
    return await loaded.open();
  } catch {
    showLoadFailed(form);
    return false;
  } finally {
    if (opener) opener.removeAttribute("aria-busy");
  }
}

// A mask must match the first image's size: say so at once rather than after a submit.
async function checkUploadedSize(form, file, message) {
  const image = first();
  if (!image || !window.createImageBitmap) return;
  const stillThere = () => maskFile(form) === file;
  try {
    const size =
      image.width && image.height
        ? { width: image.width, height: image.height }
        : await loadImage(new Image(), image.src).then((img) => ({
            width: img.naturalWidth,
            height: img.naturalHeight,
          }));
    const bitmap = await createImageBitmap(file);
    if (stillThere() && (bitmap.width !== size.width || bitmap.height !== size.height)) {
      const mine = `${bitmap.width}×${bitmap.height}`;
      const theirs = `${size.width}×${size.height}`;
      const text = `${message}. Its size, ${mine}, differs from the first image's ${theirs}.`;
      setStatus(form, text, { tone: "warn" });
    }
    if (bitmap.close) bitmap.close();
  } catch {
    if (stillThere()) {
      setStatus(form, file.name + " could not be read as an image.", { tone: "warn" });
    }
  }
}

function onMaskChosen(field) {
  const form = field.closest("form") || currentForm();
  if (!form) return;
  const state = stateFor(form);
  resetHistory(state);
  const file = field.files && field.files[0];
  if (!file) {
    state.source = null;
    setStatus(form, state.defaultStatus);
    return;
  }
  state.source = "uploaded";
  const message =
    `Mask uploaded: ${file.name} (used as is if it has transparency;` +
    " otherwise white marks the area to change)";
  setStatus(form, message);
  checkUploadedSize(form, file, message);
}

function onReferencesChanged(form, detail) {
  if (detail.initial || !hasState(form)) {
    if (form && detail.first) stateFor(form).key = detail.first.key;
    return;
  }
  const state = stateFor(form);
  if (!detail.count) {
    if (state.source || state.ops.length) removeMask(form);
    state.key = null;
    return;
  }
  if (!detail.firstChanged) return;
  state.key = detail.first ? detail.first.key : null;
  state.size = null;
  if (state.source === "painted") {
    removeMask(form, "The first image changed, so the mask was removed.", "warn");
  } else if (state.source === "uploaded") {
    resetHistory(state);
    const name = maskFile(form) ? maskFile(form).name : "the mask";
    const text =
      `Mask uploaded: ${name}.` + " The first image changed: check that the mask still fits it.";
    setStatus(form, text, { tone: "warn" });
  } else {
    resetHistory(state); // strokes never applied belong to the old first image
  }
}

document.addEventListener("click", (event) => {
  const controls = "[data-open-mask-editor], [data-clear-mask]";
  const target = event.target.closest && event.target.closest(controls);
  if (!target) return;
  event.preventDefault();
  if (target.matches("[data-open-mask-editor]")) {
    openEditor(target);
    return;
  }
  const form = target.closest("form") || currentForm();
  if (!form) return;
  removeMask(form);
  const next = form.querySelector("[data-open-mask-editor]");
  if (next) next.focus();
});

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches && field.matches("[data-mask-input]")) onMaskChosen(field);
});

document.addEventListener("references:changed", (event) => {
  onReferencesChanged(event.target, event.detail || {});
});

// Loaded once the row is shown (boot.js): a mask chosen in the instant before is taken now.
document.querySelectorAll("[data-mask-input]").forEach((field) => {
  const form = field.closest("form");
  if (field.files && field.files.length && form && !hasState(form)) onMaskChosen(field);
});

export function isLoaded() {
  return !!editor;
}

export function open() {
  return openEditor(null);
}

export function close() {
  if (editor) editor.cancel();
}

export function apply() {
  return editor ? editor.apply() : Promise.resolve(false);
}

export function hasMask() {
  const form = currentForm();
  return !!(form && maskFile(form));
}

// Only the editor paints: before it has loaded, nothing is painted.
export function paintedFraction() {
  return editor ? editor.paintedFraction() : 0;
}

export function isOpen() {
  return !!(editor && editor.isOpen());
}
