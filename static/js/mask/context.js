// What the open editor shares between its modules: the dialog's elements, the session (the
// form and its mask state while the dialog is open), the view and the input in progress.

export const editor = {
  ui: null, // dialog.js: the dialog's elements, once cloned from the page's template
  session: null, // {form, state, first, width, height, opener, note, applying}
  view: { scale: 1, tx: 0, ty: 0, fitted: true },
  input: {
    tool: "brush",
    spaceDown: false,
    showOriginal: false,
    stroke: null, // {op, pointerId, pointerType}
    pan: null, // {pointerId, x, y, view}
    touches: new Map(), // pointerId -> stage point
    pinch: null, // {view, distance, mid}
    hover: null, // {x, y, flash}
  },
};

export function resetInput() {
  const input = editor.input;
  input.stroke = null;
  input.pan = null;
  input.pinch = null;
  input.hover = null;
  input.touches.clear();
  input.spaceDown = false;
}

// The stage and the image as plain sizes, for view.js.
export function stageSize() {
  const rect = editor.ui.stage.getBoundingClientRect();
  return { width: rect.width, height: rect.height };
}

export function imageSize() {
  return { width: editor.session.width, height: editor.session.height };
}

export function isReady() {
  return !!(editor.session && editor.session.width);
}
