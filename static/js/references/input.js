// Ways files reach the tray: the file picker (also opened from the drop zone by click or
// Enter), pasting, and dropping files anywhere on the form.

import { dialogOpen, findSection, formOf } from "./chips.js";
import { addFiles } from "./tray.js";

const DROPZONE = "[data-references] [data-dropzone]";
const HIGHLIGHT_MS = 150;

function openPicker(dropzone) {
  const picker = dropzone.querySelector("[data-reference-picker]");
  if (picker) picker.click();
}

function onClick(event) {
  const target = event.target;
  const dropzone = target.closest && target.closest(DROPZONE);
  if (dropzone && !target.closest("label, input, button, a")) openPicker(dropzone);
}

function onKeyDown(event) {
  const target = event.target;
  if (!target.matches || !target.matches(DROPZONE)) return;
  if (event.key !== "Enter" && event.key !== " ") return;
  event.preventDefault();
  openPicker(target);
}

function onPickerChange(event) {
  const target = event.target;
  const picker = target.closest && target.closest("[data-references] [data-reference-picker]");
  if (!picker) return;
  addFiles(picker.closest("[data-references]"), picker.files, "picker");
  picker.value = "";
}

function clipboardFiles(data) {
  if (!data) return [];
  const files = Array.from(data.files || []);
  if (files.length || !data.items) return files;
  return Array.from(data.items)
    .filter((item) => item.kind === "file")
    .map((item) => item.getAsFile())
    .filter(Boolean);
}

function onPaste(event) {
  const section = findSection();
  if (!section || dialogOpen()) return;
  const data = event.clipboardData;
  const files = clipboardFiles(data);
  if (!files.length) return;
  const target = event.target;
  const editable =
    target && (target.isContentEditable || /^(TEXTAREA|INPUT)$/.test(target.tagName));
  // Text copied from a document can come with a picture of it: in a text field, the
  // person meant the text.
  if (editable && Array.from(data.types || []).includes("text/plain")) return;
  event.preventDefault();
  addFiles(section, files, "paste");
}

// Files dragged over the page: the whole form is a drop target, with a highlight that goes
// away shortly after the last dragover (dragleave is unreliable across children).
let highlightTimer = 0;
let highlightedForm = null;

function hasFiles(event) {
  return !!event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
}

function clearHighlight() {
  window.clearTimeout(highlightTimer);
  if (!highlightedForm) return;
  highlightedForm.classList.remove("is-drop-target");
  highlightedForm.querySelectorAll("[data-dropzone].is-over").forEach((node) => {
    node.classList.remove("is-over");
  });
  highlightedForm = null;
}

function setHighlight(form, zone) {
  if (highlightedForm && highlightedForm !== form) clearHighlight();
  form.classList.add("is-drop-target");
  form.querySelectorAll(DROPZONE).forEach((node) => {
    node.classList.toggle("is-over", node === zone);
  });
  highlightedForm = form;
  window.clearTimeout(highlightTimer);
  highlightTimer = window.setTimeout(clearHighlight, HIGHLIGHT_MS);
}

function dropContext(event) {
  const section = findSection();
  if (!section || dialogOpen()) return null;
  const form = formOf(section);
  if (!form.contains(event.target)) return null;
  const zone = event.target.closest && event.target.closest("[data-dropzone]");
  return { section, form, zone };
}

function onDragOver(event) {
  if (!hasFiles(event)) return;
  event.preventDefault(); // also keeps a stray drop from navigating away to the file
  const context = dropContext(event);
  event.dataTransfer.dropEffect = context ? "copy" : "none";
  if (context) setHighlight(context.form, context.zone);
  else clearHighlight();
}

function onDrop(event) {
  if (!hasFiles(event)) return;
  event.preventDefault();
  clearHighlight();
  const context = dropContext(event);
  if (context) addFiles(context.section, event.dataTransfer.files, "drop");
}

document.addEventListener("click", onClick);
document.addEventListener("keydown", onKeyDown);
document.addEventListener("change", onPickerChange);
document.addEventListener("paste", onPaste);
document.addEventListener("dragover", onDragOver);
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) clearHighlight();
});
document.addEventListener("drop", onDrop);
