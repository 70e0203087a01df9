// Brush and mask maths, pure: the brush size scale, stroke geometry (a stroke's points are a
// flat [x, y, pressure, ...] list in image pixels), the painted share and how it reads.

// From 1 px to a third of the image's longest side (at least 64 px).
export function sizeRange(width, height) {
  const longest = width && height ? Math.max(width, height) : 1024;
  return { min: 1, max: Math.max(64, Math.round(longest / 3)) };
}

export function clampSize(size, range) {
  return Math.max(range.min, Math.min(range.max, Math.round(size)));
}

export function defaultSize(width, height) {
  return Math.max(4, Math.round(Math.max(width, height) / 18));
}

// The slider runs 0..1000 on a logarithmic scale: small brushes get as much room as large.
export function sizeFromSlider(value, range) {
  return Math.max(range.min, Math.round(range.min * Math.pow(range.max / range.min, value / 1000)));
}

export function sliderFromSize(size, range) {
  return Math.round((1000 * Math.log(size / range.min)) / Math.log(range.max / range.min));
}

// [ and ]: 20 % a step, and at least a pixel.
export function steppedSize(size, direction) {
  return direction > 0 ? Math.max(size + 1, size * 1.2) : Math.min(size - 1, size / 1.2);
}

// The little dot beside the slider, in CSS pixels.
export function sizeDot(size) {
  return Math.max(3, Math.min(22, 3 + Math.sqrt(size)));
}

export function strokeWidth(op, pressure) {
  return op.pressure ? Math.max(0.5, op.size * (0.15 + 0.85 * pressure)) : op.size;
}

export function point(op, i) {
  const p = op.points;
  return [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
}

export function pointCount(op) {
  return op.points.length / 3;
}

// Segment k (k >= 1) runs from the midpoint of points k-2/k-1 (or point 0) to the midpoint
// of k-1/k, bending through point k-1: smooth curves through fast strokes.
export function segment(op, k) {
  const b = point(op, k - 1);
  const c = point(op, k);
  const a = k === 1 ? b : point(op, k - 2);
  const startPressure = (a[2] + b[2]) / 2;
  const endPressure = (b[2] + c[2]) / 2;
  return {
    from: { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 },
    via: { x: b[0], y: b[1] },
    to: { x: (b[0] + c[0]) / 2, y: (b[1] + c[1]) / 2 },
    width: strokeWidth(op, (startPressure + endPressure) / 2),
  };
}

// The last half segment, from the last midpoint to the last point; null for a dot.
export function tail(op) {
  const n = pointCount(op);
  if (n < 2) return null;
  const b = point(op, n - 2);
  const c = point(op, n - 1);
  return {
    from: { x: (b[0] + c[0]) / 2, y: (b[1] + c[1]) / 2 },
    to: { x: c[0], y: c[1] },
    width: strokeWidth(op, c[2]),
  };
}

// Points closer than this to the last one add nothing but work.
export function minStep(op) {
  return Math.max(0.35, op.size * 0.04);
}

// Mean alpha of RGBA pixel data, 0..1.
export function meanAlpha(data) {
  let sum = 0;
  for (let i = 3; i < data.length; i += 4) sum += data[i];
  return sum / (255 * (data.length / 4));
}

export function percent(fraction) {
  if (fraction <= 0) return "0 %";
  if (fraction < 0.005) return "less than 1 %";
  if (fraction > 0.995 && fraction < 1) return "more than 99 %";
  return Math.round(fraction * 100) + " %";
}

// An uploaded mask read the way the server reads it, in place: its transparency if it has
// any, otherwise its brightness (white marks the area to change), as the editor's tint.
export function maskFromUpload(data) {
  let transparent = false;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] < 255) {
      transparent = true;
      break;
    }
  }
  for (let i = 0; i < data.length; i += 4) {
    const brightness = Math.round(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
    const painted = transparent ? 255 - data[i + 3] : brightness;
    data[i] = 255;
    data[i + 1] = 0;
    data[i + 2] = 230;
    data[i + 3] = painted;
  }
  return data;
}

export function coverageText(fraction, hasOps) {
  if (fraction > 0) return percent(fraction) + " of the image will change";
  return hasOps
    ? "Nothing painted: applying removes the mask."
    : "Paint over what should change; the rest stays as it is.";
}
