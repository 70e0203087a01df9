// Painting the mask's operations onto a canvas at the image's natural size.
import { point, pointCount, segment, tail, strokeWidth } from "./brush.js";

const TINT = "#ff00e6"; // the painted area, shown at 50 % over the image

export function prepare(ctx, op) {
  ctx.globalCompositeOperation = op.mode === "erase" ? "destination-out" : "source-over";
  ctx.fillStyle = TINT;
  ctx.strokeStyle = TINT;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
}

export function drawDot(ctx, op) {
  const [x, y, pressure] = point(op, 0);
  ctx.beginPath();
  ctx.arc(x, y, strokeWidth(op, pressure) / 2, 0, Math.PI * 2);
  ctx.fill();
}

export function drawSegment(ctx, op, k) {
  const s = segment(op, k);
  ctx.lineWidth = s.width;
  ctx.beginPath();
  ctx.moveTo(s.from.x, s.from.y);
  ctx.quadraticCurveTo(s.via.x, s.via.y, s.to.x, s.to.y);
  ctx.stroke();
}

export function drawTail(ctx, op) {
  const t = tail(op);
  if (!t) return;
  ctx.lineWidth = t.width;
  ctx.beginPath();
  ctx.moveTo(t.from.x, t.from.y);
  ctx.lineTo(t.to.x, t.to.y);
  ctx.stroke();
}

// Runs `draw(ctx)` with the operation's brush set, leaving the context as it was.
export function withBrush(canvas, op, draw) {
  const ctx = canvas.getContext("2d");
  ctx.save();
  prepare(ctx, op);
  draw(ctx);
  ctx.restore();
}

export function drawOp(ctx, op, width, height) {
  ctx.save();
  if (op.type === "clear") {
    ctx.clearRect(0, 0, width, height);
  } else if (op.type === "invert") {
    // XOR with an opaque fill turns alpha a into 1 - a, in one pass.
    ctx.globalCompositeOperation = "xor";
    ctx.fillStyle = TINT;
    ctx.fillRect(0, 0, width, height);
  } else if (op.type === "import") {
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(op.canvas, 0, 0, width, height);
  } else if (op.type === "stroke") {
    prepare(ctx, op);
    drawDot(ctx, op);
    for (let k = 1; k < pointCount(op); k++) drawSegment(ctx, op, k);
    drawTail(ctx, op);
  }
  ctx.restore();
}

// Draws one more operation of a form's mask state.
export function drawOn(state, op) {
  if (state.canvas) drawOp(state.canvas.getContext("2d"), op, state.width, state.height);
}

export function replay(state) {
  if (!state.canvas) return;
  const ctx = state.canvas.getContext("2d");
  ctx.clearRect(0, 0, state.width, state.height);
  state.ops.forEach((op) => drawOp(ctx, op, state.width, state.height));
}
