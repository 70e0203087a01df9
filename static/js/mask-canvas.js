// Mask canvas: drawing the editor's operations (strokes, clear, invert, an imported mask)
// onto a canvas at the image's natural size, measuring the painted share, and exporting
// the PNG the Images API expects (transparent where painted, opaque black elsewhere).
// Functions of a canvas and an operation list, used by mask-editor.js.
(function () {
  "use strict";

  const TINT = "#ff00e6"; // the painted area, shown at 50 % over the image

  function strokeWidth(op, pressure) {
    return op.pressure ? Math.max(0.5, op.size * (0.15 + 0.85 * pressure)) : op.size;
  }
  function point(op, i) {
    const p = op.points;
    return [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
  }
  function prepare(ctx, op) {
    ctx.globalCompositeOperation = op.mode === "erase" ? "destination-out" : "source-over";
    ctx.fillStyle = TINT;
    ctx.strokeStyle = TINT;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }
  function drawDot(ctx, op) {
    const a = point(op, 0);
    ctx.beginPath();
    ctx.arc(a[0], a[1], strokeWidth(op, a[2]) / 2, 0, Math.PI * 2);
    ctx.fill();
  }
  // Segment k (k >= 1) runs from the midpoint of points k-2/k-1 (or point 0) to the
  // midpoint of k-1/k, bending through point k-1: smooth curves through fast strokes.
  function drawSegment(ctx, op, k) {
    const b = point(op, k - 1);
    const c = point(op, k);
    const a = k === 1 ? b : point(op, k - 2);
    const sx = (a[0] + b[0]) / 2, sy = (a[1] + b[1]) / 2, sp = (a[2] + b[2]) / 2;
    const ex = (b[0] + c[0]) / 2, ey = (b[1] + c[1]) / 2, ep = (b[2] + c[2]) / 2;
    ctx.lineWidth = strokeWidth(op, (sp + ep) / 2);
    ctx.beginPath();
    ctx.moveTo(sx, sy);
    ctx.quadraticCurveTo(b[0], b[1], ex, ey);
    ctx.stroke();
  }
  function drawTail(ctx, op) {
    const n = op.points.length / 3;
    if (n < 2) return;
    const b = point(op, n - 2);
    const c = point(op, n - 1);
    ctx.lineWidth = strokeWidth(op, c[2]);
    ctx.beginPath();
    ctx.moveTo((b[0] + c[0]) / 2, (b[1] + c[1]) / 2);
    ctx.lineTo(c[0], c[1]);
    ctx.stroke();
  }
  function drawOp(ctx, op, width, height) {
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
      const n = op.points.length / 3;
      for (let k = 1; k < n; k++) drawSegment(ctx, op, k);
      drawTail(ctx, op);
    }
    ctx.restore();
  }
  // An uploaded mask as a starting point, read the way the server reads it: transparency
  // if it has any, otherwise white marks the area to change.
  function importMask(file, width, height) {
    return createImageBitmap(file).then(function (bitmap) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(bitmap, 0, 0, width, height);
      if (bitmap.close) bitmap.close();
      const image = ctx.getImageData(0, 0, width, height);
      const data = image.data;
      let transparent = false;
      for (let i = 3; i < data.length; i += 4) {
        if (data[i] < 255) { transparent = true; break; }
      }
      for (let i = 0; i < data.length; i += 4) {
        const painted = transparent ? 255 - data[i + 3] : Math.round(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
        data[i] = 255;
        data[i + 1] = 0;
        data[i + 2] = 230;
        data[i + 3] = painted;
      }
      ctx.putImageData(image, 0, 0);
      return { type: "import", canvas: canvas, name: file.name };
    });
  }

  function replay(state) {
    if (!state.canvas) return;
    const ctx = state.canvas.getContext("2d");
    ctx.clearRect(0, 0, state.width, state.height);
    state.ops.forEach(function (op) { drawOp(ctx, op, state.width, state.height); });
  }

  // ---------------------------------------------------------------- measuring and export

  let sampler = null;
  function approxFraction(state) {
    if (!state.canvas || !state.ops.length) return 0;
    const k = Math.min(1, 256 / Math.max(state.width, state.height));
    const w = Math.max(1, Math.round(state.width * k));
    const h = Math.max(1, Math.round(state.height * k));
    if (!sampler) sampler = document.createElement("canvas");
    sampler.width = w;
    sampler.height = h;
    const ctx = sampler.getContext("2d"); // GPU to GPU downscale, then a small readback
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(state.canvas, 0, 0, w, h);
    return meanAlpha(ctx.getImageData(0, 0, w, h).data);
  }
  function meanAlpha(data) {
    let sum = 0;
    for (let i = 3; i < data.length; i += 4) sum += data[i];
    return sum / (255 * (data.length / 4));
  }
  // Exact share of painted pixels, read in bands to keep memory flat on large images.
  function exactFraction(state) {
    if (!state.canvas || !state.ops.length) return 0;
    const ctx = state.canvas.getContext("2d");
    const band = Math.max(1, Math.floor(4194304 / state.width));
    let sum = 0;
    for (let y = 0; y < state.height; y += band) {
      const rows = Math.min(band, state.height - y);
      const data = ctx.getImageData(0, y, state.width, rows).data;
      for (let i = 3; i < data.length; i += 4) sum += data[i];
    }
    return sum / (255 * state.width * state.height);
  }
  function percent(fraction) {
    if (fraction <= 0) return "0 %";
    if (fraction < 0.005) return "less than 1 %";
    if (fraction > 0.995 && fraction < 1) return "more than 99 %";
    return Math.round(fraction * 100) + " %";
  }

  // Encoded at once with toDataURL, not toBlob: toBlob waits for the page's idle time, which
  // a busy tab (or a headless browser) may not get for seconds, and a form submitted
  // meanwhile would go without its mask. Even a 4096 x 4096 mask takes well under a second.
  function exportMask(state) {
    return new Promise(function (resolve, reject) {
      const out = document.createElement("canvas");
      out.width = state.width;
      out.height = state.height;
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, state.width, state.height);
      ctx.globalCompositeOperation = "destination-out";
      ctx.drawImage(state.canvas, 0, 0);
      const url = out.toDataURL("image/png");
      const comma = url.indexOf(",");
      if (url.slice(0, comma) !== "data:image/png;base64") {
        reject(new Error("The mask could not be encoded."));
        return;
      }
      const bin = atob(url.slice(comma + 1));
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      resolve(new Blob([bytes], { type: "image/png" }));
    });
  }

  function previewUrl(state, image) {
    const k = 64 / Math.max(state.width, state.height);
    const w = Math.max(1, Math.round(state.width * k));
    const h = Math.max(1, Math.round(state.height * k));
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const ctx = c.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    try {
      ctx.drawImage(image, 0, 0, w, h);
      ctx.globalAlpha = 0.65;
      ctx.drawImage(state.canvas, 0, 0, w, h);
      return c.toDataURL("image/png");
    } catch (error) {
      // A cross-origin image taints the canvas: show the mask on its own.
      const clean = document.createElement("canvas");
      clean.width = w;
      clean.height = h;
      const plain = clean.getContext("2d");
      plain.fillStyle = "#1b1f24";
      plain.fillRect(0, 0, w, h);
      plain.drawImage(state.canvas, 0, 0, w, h);
      return clean.toDataURL("image/png");
    }
  }

  window.PlaygroundMaskCanvas = {
    point: point,
    prepare: prepare,
    drawDot: drawDot,
    drawSegment: drawSegment,
    drawTail: drawTail,
    drawOp: drawOp,
    importMask: importMask,
    replay: replay,
    approxFraction: approxFraction,
    exactFraction: exactFraction,
    percent: percent,
    exportMask: exportMask,
    previewUrl: previewUrl,
  };
})();
