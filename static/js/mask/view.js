// The editor's view of the image: a scale and a translation (stage pixels) fitted, zoomed
// and panned. Pure functions of plain sizes and points; `stage` and `image` are
// {width, height}, a view is {scale, tx, ty, fitted}.

export const MAX_SCALE = 32;
export const ZOOM_STEP = 1.25;

export function fitScale(stage, image) {
  const pad = stage.width < 600 ? 12 : 40;
  const scale = Math.min(
    (stage.width - 2 * pad) / image.width,
    (stage.height - 2 * pad) / image.height,
  );
  return Math.max(0.001, scale);
}

export function minScale(stage, image) {
  return Math.min(fitScale(stage, image) / 4, 0.05);
}

export function clampScale(scale, stage, image) {
  return Math.max(minScale(stage, image), Math.min(MAX_SCALE, scale));
}

// The whole image, centred.
export function fitView(stage, image) {
  const scale = fitScale(stage, image);
  return {
    scale,
    tx: (stage.width - image.width * scale) / 2,
    ty: (stage.height - image.height * scale) / 2,
    fitted: true,
  };
}

// Keeps a piece of the image on screen, however far it is panned.
export function clampPan(view, stage, image) {
  const w = image.width * view.scale;
  const h = image.height * view.scale;
  const keep = Math.min(80, w / 2, h / 2);
  return {
    ...view,
    tx: Math.min(stage.width - keep, Math.max(keep - w, view.tx)),
    ty: Math.min(stage.height - keep, Math.max(keep - h, view.ty)),
  };
}

// Zooms to `scale`, keeping the image point under (cx, cy) in place (the centre by default).
export function zoomAt(view, scale, stage, image, cx = stage.width / 2, cy = stage.height / 2) {
  const next = clampScale(scale, stage, image);
  const k = next / view.scale;
  const moved = {
    scale: next,
    tx: cx - (cx - view.tx) * k,
    ty: cy - (cy - view.ty) * k,
    fitted: false,
  };
  return clampPan(moved, stage, image);
}

export function panBy(start, dx, dy, stage, image) {
  return clampPan({ ...start, tx: start.tx + dx, ty: start.ty + dy, fitted: false }, stage, image);
}

// Two fingers: the image point under the first midpoint follows the midpoint, scaled by how
// far the fingers moved apart. `start` is {view, distance, mid}.
export function pinchView(start, distance, mid, stage, image) {
  const from = start.view;
  const scale = clampScale((from.scale * distance) / start.distance, stage, image);
  const at = toImage(from, start.mid);
  const moved = { scale, tx: mid.x - at.x * scale, ty: mid.y - at.y * scale, fitted: false };
  return clampPan(moved, stage, image);
}

export function toImage(view, point) {
  return { x: (point.x - view.tx) / view.scale, y: (point.y - view.ty) / view.scale };
}

export function toStage(view, point) {
  return { x: point.x * view.scale + view.tx, y: point.y * view.scale + view.ty };
}

export function isActualSize(view) {
  return Math.abs(view.scale - 1) < 0.001;
}

// A wheel event's zoom factor: lines and pages count as pixels; trackpad pinches arrive as
// ctrl+wheel with small deltas, so they zoom faster.
export function wheelFactor(deltaY, deltaMode, ctrlKey) {
  let delta = deltaY;
  if (deltaMode === 1) delta *= 16;
  else if (deltaMode === 2) delta *= 400;
  return Math.exp(-delta * (ctrlKey ? 0.01 : 0.0015));
}

export function distanceAndMid(a, b) {
  return {
    distance: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)),
    mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
  };
}

export function percentLabel(view) {
  return Math.round(view.scale * 100) + " %";
}
