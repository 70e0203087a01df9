// The editor's keyboard shortcuts. They listen on the document (capture), not the dialog:
// focus can end up on <body> (a focused control removed, a click on a non-focusable part)
// and the keys must still work; the editor is modal, so its keys are its own.
import { editor } from "./context.js";
import { renderCursor, setTool, toggleHelp, toggleOriginal } from "./dialog.js";
import {
  clearMask,
  fit,
  invertMask,
  redo,
  stepSize,
  undo,
  zoomBy,
  zoomTo,
} from "./actions.js";
import { abortStroke, endStroke } from "./pointer.js";

let commands = { apply() {}, cancel() {} };

// Fields where keys type text (none in the dialog today): only Escape is ours there.
function isTextField(el) {
  if (!el || !el.tagName) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  const typed = !/^(range|button|submit|reset|checkbox|radio|file|color|image)$/.test(el.type);
  return el.tagName === "INPUT" && typed;
}

function onEscape() {
  const input = editor.input;
  if (!editor.ui.help.hidden) toggleHelp(false);
  else if (input.stroke) abortStroke();
  else if (input.pan) input.pan = null;
  else commands.cancel();
}

// Ctrl (⌘ on a Mac) with a key. True when the key was the editor's.
function withModifier(event, key) {
  const lower = key.toLowerCase();
  if (lower === "z" && event.shiftKey) redo();
  else if (lower === "z") undo();
  else if (lower === "y") redo();
  else if (key === "Enter") commands.apply();
  else if (key === "0") fit();
  else if (key === "=" || key === "+") zoomBy(1, false);
  else if (key === "-") zoomBy(-1, false);
  else return false;
  return true;
}

function plainKey(event, key) {
  const lower = key.length === 1 ? key.toLowerCase() : key;
  const code = event.code;
  const onButton = event.target.tagName === "BUTTON";
  if (lower === "b") setTool("brush");
  else if (lower === "e") setTool("eraser");
  else if (lower === "h") setTool("hand");
  else if (lower === "x") setTool(editor.input.tool === "eraser" ? "brush" : "eraser");
  else if (key === "[" || (code === "BracketLeft" && key !== "{")) stepSize(-1);
  else if (key === "]" || (code === "BracketRight" && key !== "}")) stepSize(1);
  else if (lower === "i") invertMask();
  else if (lower === "o") toggleOriginal();
  else if (key === "Delete" || key === "Backspace") clearMask();
  else if (key === "0" || lower === "f") fit();
  else if (key === "1") zoomTo(1);
  else if (key === "+" || key === "=") zoomBy(1, true);
  else if (key === "-" || key === "_") zoomBy(-1, true);
  else if (key === "?") toggleHelp();
  else if (key === "Enter" && !onButton) commands.apply();
  else return false;
  return true;
}

// True when the key was the editor's (its default is then prevented).
function handleKey(event) {
  const key = event.key;
  if (!key) return false; // autofill and IME can send keydowns without a key
  if (key === "Escape") {
    event.preventDefault();
    onEscape();
    return true;
  }
  const target = event.target;
  if (isTextField(target)) return false;
  if ((event.ctrlKey || event.metaKey) && !event.altKey) {
    const handled = withModifier(event, key);
    if (handled) event.preventDefault();
    return handled;
  }
  if (event.altKey) return false;
  if (key === " ") {
    if (target.tagName === "BUTTON") return false; // Space presses the focused button
    event.preventDefault();
    if (!event.repeat) {
      editor.input.spaceDown = true;
      renderCursor();
    }
    return true;
  }
  if (target === editor.ui.size && /^(Arrow|Page|Home|End)/.test(key)) return false;
  const handled = plainKey(event, key);
  if (handled) event.preventDefault();
  return handled;
}

function onKeyDown(event) {
  if (!editor.session || !editor.ui.dialog.open) return;
  if (handleKey(event)) event.stopPropagation();
}

function onKeyUp(event) {
  if (editor.session && event.key === " " && editor.input.spaceDown) {
    event.preventDefault();
    editor.input.spaceDown = false;
    renderCursor();
  }
}

// `apply` and `cancel` come from editor.js, which owns the session.
export function bindKeys(actions) {
  commands = actions;
  document.addEventListener("keydown", onKeyDown, true);
  document.addEventListener("keyup", onKeyUp, true);
  window.addEventListener("blur", () => {
    editor.input.spaceDown = false;
    if (editor.input.stroke) endStroke();
  });
}
