// Pointer input on the editor's stage: strokes (mouse, pen with pressure, one finger), panning
// (hand tool, Space, middle button, two fingers), pinch and wheel zoom.
import { editor, imageSize, isReady, stageSize } from "./context.js";
import { renderCursor, renderView, toggleHelp } from "./dialog.js";
import { pushOp, zoomTo } from "./actions.js";
import { drawDot, drawSegment, drawTail, replay, withBrush } from "./paint.js";
import { minStep, point, pointCount } from "./brush.js";
import { distanceAndMid, panBy, pinchView, toImage, wheelFactor } from "./view.js";

function stagePoint(event) {
  const rect = editor.ui.stage.getBoundingClientRect();
  return { x: event.clientX - rect.left, y: event.clientY - rect.top };
}

function imagePoint(event) {
  return toImage(editor.view, stagePoint(event));
}

function pressureOf(event, op) {
  if (!op.pressure) return 1;
  return event.pressure > 0 ? event.pressure : 0.5;
}

function capture(event) {
  try {
    editor.ui.stage.setPointerCapture(event.pointerId);
  } catch {
    // the pointer is already gone
  }
}

function beginStroke(event, erase) {
  const state = editor.session.state;
  const op = {
    type: "stroke",
    mode: erase ? "erase" : "paint",
    size: state.size,
    pressure: event.pointerType === "pen" && event.pressure > 0 && event.pressure !== 0.5,
    points: [],
  };
  // Shift + click: a straight line from where the last stroke ended.
  if (event.shiftKey && state.lastPoint) op.points.push(state.lastPoint.x, state.lastPoint.y, 1);
  const at = imagePoint(event);
  op.points.push(at.x, at.y, pressureOf(event, op));
  withBrush(state.canvas, op, (ctx) => {
    drawDot(ctx, op);
    if (pointCount(op) > 1) drawSegment(ctx, op, 1);
  });
  editor.input.stroke = { op, pointerId: event.pointerId, pointerType: event.pointerType };
  renderCursor();
}

function extendStroke(event) {
  const op = editor.input.stroke.op;
  const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  const events = coalesced.length ? coalesced : [event];
  const step = minStep(op);
  withBrush(editor.session.state.canvas, op, (ctx) => {
    events.forEach((e) => {
      const at = imagePoint(e);
      const n = pointCount(op);
      const [lx, ly] = point(op, n - 1);
      if (Math.hypot(at.x - lx, at.y - ly) < step) return;
      op.points.push(at.x, at.y, pressureOf(e, op));
      drawSegment(ctx, op, n);
    });
  });
}

export function endStroke() {
  const stroke = editor.input.stroke;
  if (!stroke) return;
  editor.input.stroke = null;
  const op = stroke.op;
  const state = editor.session.state;
  withBrush(state.canvas, op, (ctx) => drawTail(ctx, op));
  const [x, y] = point(op, pointCount(op) - 1);
  state.lastPoint = { x, y };
  pushOp(op);
}

export function abortStroke() {
  if (!editor.input.stroke) return;
  editor.input.stroke = null;
  replay(editor.session.state);
  renderCursor();
}

function startPinch() {
  const [a, b] = Array.from(editor.input.touches.values());
  editor.input.pinch = { view: { ...editor.view }, ...distanceAndMid(a, b) };
  renderCursor();
}

function onPointerDown(event) {
  const { ui, input } = editor;
  if (!isReady() || !ui.loading.hidden) return;
  ui.stage.focus({ preventScroll: true });
  if (!ui.help.hidden) toggleHelp(false);
  const p = stagePoint(event);
  if (event.pointerType === "touch") {
    input.touches.set(event.pointerId, p);
    if (input.touches.size === 2) {
      // A second finger: this is a pinch or a two-finger pan, not a stroke.
      if (input.stroke && input.stroke.pointerType === "touch") abortStroke();
      input.pan = null;
      startPinch();
      capture(event);
      return;
    }
    if (input.touches.size > 2) return;
  }
  if (event.button === 1 || input.spaceDown || input.tool === "hand") {
    event.preventDefault();
    input.pan = { pointerId: event.pointerId, x: p.x, y: p.y, view: { ...editor.view } };
    capture(event);
    renderCursor();
    return;
  }
  // Left button, pen tip or touch draws; right button or a pen's eraser end erases.
  if (event.button !== 0 && event.button !== 2 && event.button !== 5) return;
  if (input.stroke) return;
  event.preventDefault();
  const eraserEnd = event.button === 5 || (event.buttons & 32) !== 0;
  const erase = input.tool === "eraser" || event.button === 2 || eraserEnd;
  input.hover = event.pointerType === "touch" ? null : p;
  capture(event);
  beginStroke(event, erase);
}

function onPointerMove(event) {
  const input = editor.input;
  if (!isReady()) return;
  const p = stagePoint(event);
  if (event.pointerType === "touch" && input.touches.has(event.pointerId)) {
    input.touches.set(event.pointerId, p);
    if (input.pinch && input.touches.size >= 2) {
      const [a, b] = Array.from(input.touches.values());
      const { distance, mid } = distanceAndMid(a, b);
      Object.assign(editor.view, pinchView(input.pinch, distance, mid, stageSize(), imageSize()));
      renderView();
      return;
    }
  } else if (event.pointerType !== "touch") {
    input.hover = p;
  }
  if (input.pan && event.pointerId === input.pan.pointerId) {
    const pan = input.pan;
    Object.assign(editor.view, panBy(pan.view, p.x - pan.x, p.y - pan.y, stageSize(), imageSize()));
    renderView();
    return;
  }
  if (input.stroke && event.pointerId === input.stroke.pointerId) extendStroke(event);
  renderCursor();
}

function onPointerUp(event) {
  const input = editor.input;
  if (event.pointerType === "touch") {
    input.touches.delete(event.pointerId);
    if (input.pinch && input.touches.size < 2) {
      input.pinch = null;
      renderCursor();
      return;
    }
  }
  if (input.pan && event.pointerId === input.pan.pointerId) {
    input.pan = null;
    renderCursor();
    return;
  }
  if (input.stroke && event.pointerId === input.stroke.pointerId) {
    if (event.type === "pointercancel") abortStroke();
    else endStroke();
  }
}

function onWheel(event) {
  if (!isReady()) return;
  event.preventDefault();
  const p = stagePoint(event);
  zoomTo(editor.view.scale * wheelFactor(event.deltaY, event.deltaMode, event.ctrlKey), p.x, p.y);
}

export function bindPointer(stage) {
  stage.addEventListener("pointerdown", onPointerDown);
  stage.addEventListener("pointermove", onPointerMove);
  stage.addEventListener("pointerup", onPointerUp);
  stage.addEventListener("pointercancel", onPointerUp);
  stage.addEventListener("lostpointercapture", (event) => {
    const input = editor.input;
    if (input.stroke && event.pointerId === input.stroke.pointerId) endStroke();
    if (input.pan && event.pointerId === input.pan.pointerId) input.pan = null;
  });
  stage.addEventListener("pointerleave", (event) => {
    if (event.pointerType !== "touch" && !editor.input.stroke) {
      editor.input.hover = null;
      renderCursor();
    }
  });
  stage.addEventListener("contextmenu", (event) => event.preventDefault());
  stage.addEventListener("auxclick", (event) => event.preventDefault());
  stage.addEventListener("wheel", onWheel, { passive: false });
}
