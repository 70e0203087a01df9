// The mask of each form: its history and canvas (kept while the editor is closed), what the
// mask input holds, and the status line under the "Paint a mask" button. Shared by the
// always-loaded mask row (index.js) and the editor, which loads on first use.
import { clearHistory, emptyHistory } from "./history.js";

const DEFAULT_STATUS = "No mask: the whole image may change.";
const states = new WeakMap(); // form -> mask state

export function currentForm() {
  const section =
    document.querySelector("#generate-form [data-references]") ||
    document.querySelector("[data-references]");
  if (!section) return document.getElementById("generate-form");
  return section.closest("form") || section.parentElement;
}

export function hasState(form) {
  return states.has(form);
}

export function stateFor(form) {
  let state = states.get(form);
  if (!state) {
    const status = form.querySelector("[data-mask-status]");
    state = {
      ...emptyHistory(),
      key: null, // the first reference image the history belongs to
      canvas: null,
      width: 0,
      height: 0,
      size: null,
      source: null, // "painted" | "uploaded" | null: what the mask input holds
      lastPoint: null,
      defaultStatus: (status && status.textContent.trim()) || DEFAULT_STATUS,
    };
    states.set(form, state);
  }
  return state;
}

export function resetHistory(state) {
  clearHistory(state);
  state.lastPoint = null;
  if (state.canvas) state.canvas.getContext("2d").clearRect(0, 0, state.width, state.height);
}

export function maskInput(form) {
  return (
    form.querySelector("[data-mask-input]") || form.querySelector("input[type=file][name=mask]")
  );
}

export function maskFile(form) {
  const field = maskInput(form);
  return (field && field.files && field.files[0]) || null;
}

export function setMaskFile(form, file) {
  const field = maskInput(form);
  if (!field) return;
  try {
    const transfer = new DataTransfer();
    if (file) transfer.items.add(file);
    field.files = transfer.files;
  } catch {
    if (!file) field.value = "";
  }
}

function fillStatus(status, text, preview, tone) {
  status.replaceChildren();
  if (preview) {
    const img = document.createElement("img");
    img.className = "mask-status-preview";
    img.alt = "";
    img.src = preview;
    status.appendChild(img);
  }
  const span = document.createElement("span");
  span.textContent = text;
  status.appendChild(span);
  if (tone) status.dataset.tone = tone;
  else delete status.dataset.tone;
  status.setAttribute("aria-live", "polite");
}

// Says what the mask is now and tells the page (mask:changed) whether there is one.
export function setStatus(form, text, { preview = null, tone = null } = {}) {
  const state = stateFor(form); // first, so it remembers the server's default text
  const status = form.querySelector("[data-mask-status]");
  if (status) fillStatus(status, text, preview, tone);
  // A server error about the previous mask no longer applies.
  form.querySelectorAll("[data-mask-row] [data-error-for]").forEach((error) => {
    error.hidden = true;
  });
  const hasMask = !!maskFile(form);
  const clear = form.querySelector("[data-clear-mask]");
  if (clear) clear.hidden = !hasMask;
  form.classList.toggle("has-mask", hasMask);
  const detail = { hasMask, source: state.source };
  form.dispatchEvent(new CustomEvent("mask:changed", { bubbles: true, detail }));
}

// Drops the mask and its history; `message` says why (or the default status).
export function removeMask(form, message, tone) {
  const state = stateFor(form);
  resetHistory(state);
  state.source = null;
  setMaskFile(form, null);
  setStatus(form, message || state.defaultStatus, { tone });
}

export function loadImage(img, src) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("The image could not be loaded."));
    if (img.getAttribute("src") === src && img.complete && img.naturalWidth) {
      resolve(img);
      return;
    }
    img.src = src;
  });
}
