// What the editor's buttons, keys and pointer do to the view, the brush and the history.
import { editor, imageSize, isReady, stageSize } from "./context.js";
import {
  flashCursor,
  hideRestoreOffer,
  renderCursor,
  renderSize,
  renderView,
  setDisabled,
} from "./dialog.js";
import * as history from "./history.js";
import { drawOn, replay } from "./paint.js";
import { approxFraction } from "./pixels.js";
import { clampPan, fitView, isActualSize, zoomAt, ZOOM_STEP } from "./view.js";
import {
  clampSize,
  coverageText,
  sizeFromSlider,
  sizeRange,
  sliderFromSize,
  steppedSize,
} from "./brush.js";

// ---------------------------------------------------------------- view

export function fit() {
  if (!isReady()) return;
  Object.assign(editor.view, fitView(stageSize(), imageSize()));
  renderView();
}

// Zooms to `scale` at a stage point (the pointer), or at the centre.
export function zoomTo(scale, cx, cy) {
  if (!isReady()) return;
  const at = [cx ?? undefined, cy ?? undefined]; // null: the centre
  Object.assign(editor.view, zoomAt(editor.view, scale, stageSize(), imageSize(), ...at));
  renderView();
}

export function zoomBy(steps, atPointer) {
  const hover = atPointer ? editor.input.hover : null;
  zoomTo(editor.view.scale * Math.pow(ZOOM_STEP, steps), hover?.x, hover?.y);
}

export function toggleActualSize() {
  if (isActualSize(editor.view)) fit();
  else zoomTo(1);
}

// The stage changed size: a fitted view fits again, another one stays in bounds.
export function onStageResized() {
  if (!isReady()) return;
  if (editor.view.fitted) {
    fit();
    return;
  }
  Object.assign(editor.view, clampPan(editor.view, stageSize(), imageSize()));
  renderView();
}

// ---------------------------------------------------------------- brush size

function currentRange() {
  const session = editor.session;
  return sizeRange(session ? session.width : 0, session ? session.height : 0);
}

export function setSize(size, fromSlider = false) {
  const state = editor.session.state;
  const range = currentRange();
  state.size = clampSize(size, range);
  renderSize(state.size, fromSlider ? null : sliderFromSize(state.size, range));
}

export function stepSize(direction) {
  setSize(steppedSize(editor.session.state.size, direction));
  if (!editor.input.hover) flashCursor();
}

export function setSizeFromSlider(value) {
  setSize(sizeFromSlider(value, currentRange()), true);
  flashCursor();
}

// ---------------------------------------------------------------- history

// Records an operation; `draw` also paints it (strokes are painted while they happen).
export function pushOp(op, draw) {
  const state = editor.session.state;
  history.record(state, op);
  if (state.discarded) dismissRestore();
  if (draw) drawOn(state, op);
  afterChange();
}

export function undo() {
  const state = editor.session.state;
  if (editor.input.stroke || !history.undo(state)) return;
  replay(state);
  afterChange();
}

export function redo() {
  const state = editor.session.state;
  if (editor.input.stroke) return;
  const op = history.redo(state);
  if (!op) return;
  drawOn(state, op);
  afterChange();
}

export function clearMask() {
  const state = editor.session.state;
  if (editor.input.stroke || !state.ops.length || approxFraction(state) === 0) return;
  pushOp({ type: "clear" }, true);
}

export function invertMask() {
  if (editor.input.stroke) return;
  pushOp({ type: "invert" }, true);
}

export function restoreDiscarded() {
  const state = editor.session.state;
  if (history.restoreDiscarded(state)) {
    replay(state);
    afterChange();
  }
  dismissRestore();
}

export function dismissRestore() {
  if (editor.session) editor.session.state.discarded = null;
  hideRestoreOffer();
}

let statsFrame = 0;

// The buttons and the coverage line follow the history; the coverage once a frame at most.
export function afterChange() {
  const ui = editor.ui;
  const state = editor.session.state;
  // Enable before disabling, so a button losing focus can hand it to the other one.
  if (state.ops.length) ui.undo.disabled = false;
  if (state.redo.length) ui.redo.disabled = false;
  setDisabled(ui.undo, !state.ops.length, [ui.redo]);
  setDisabled(ui.redo, !state.redo.length, [ui.undo]);
  window.cancelAnimationFrame(statsFrame);
  statsFrame = window.requestAnimationFrame(() => {
    const session = editor.session;
    if (!session) return;
    const fraction = approxFraction(session.state);
    setDisabled(ui.clear, fraction === 0, [ui.undo, ui.invert]);
    const unchanged = history.isUnchanged(session.state);
    const note = session.note && unchanged ? session.note + " " : "";
    ui.coverage.textContent = note + coverageText(fraction, session.state.ops.length > 0);
    ui.coverage.classList.toggle("is-empty", fraction === 0);
  });
  renderCursor();
}
