// Reading and writing the mask's pixels: an uploaded mask as a starting point, the painted
// share, the PNG the Images API expects (transparent where painted, opaque black elsewhere)
// and the small preview in the status line.
import { maskFromUpload, meanAlpha } from "./brush.js";

function blankCanvas(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

export async function importMask(file, width, height) {
  const bitmap = await createImageBitmap(file);
  const canvas = blankCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0, width, height);
  if (bitmap.close) bitmap.close();
  const image = ctx.getImageData(0, 0, width, height);
  maskFromUpload(image.data);
  ctx.putImageData(image, 0, 0);
  return { type: "import", canvas, name: file.name };
}

let sampler = null;

// Close enough for the live coverage line: a GPU downscale to 256 px, then a small readback.
export function approxFraction(state) {
  if (!state.canvas || !state.ops.length) return 0;
  const k = Math.min(1, 256 / Math.max(state.width, state.height));
  const w = Math.max(1, Math.round(state.width * k));
  const h = Math.max(1, Math.round(state.height * k));
  if (!sampler) sampler = blankCanvas(w, h);
  sampler.width = w;
  sampler.height = h;
  const ctx = sampler.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.clearRect(0, 0, w, h);
  ctx.drawImage(state.canvas, 0, 0, w, h);
  return meanAlpha(ctx.getImageData(0, 0, w, h).data);
}

// Exact share of painted pixels, read in bands to keep memory flat on large images.
export function exactFraction(state) {
  if (!state.canvas || !state.ops.length) return 0;
  const ctx = state.canvas.getContext("2d");
  const band = Math.max(1, Math.floor(4194304 / state.width));
  let sum = 0;
  for (let y = 0; y < state.height; y += band) {
    const rows = Math.min(band, state.height - y);
    sum += meanAlpha(ctx.getImageData(0, y, state.width, rows).data) * rows;
  }
  return sum / state.height;
}

// Encoded at once with toDataURL, not toBlob: toBlob waits for the page's idle time, which a
// busy tab (or a headless browser) may not get for seconds, and a form submitted meanwhile
// would go without its mask. Even a 4096 x 4096 mask takes well under a second.
export async function exportMask(state) {
  const out = blankCanvas(state.width, state.height);
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, state.width, state.height);
  ctx.globalCompositeOperation = "destination-out";
  ctx.drawImage(state.canvas, 0, 0);
  const url = out.toDataURL("image/png");
  const comma = url.indexOf(",");
  if (url.slice(0, comma) !== "data:image/png;base64") {
    throw new Error("The mask could not be encoded.");
  }
  const bin = atob(url.slice(comma + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: "image/png" });
}

export function previewUrl(state, image) {
  const k = 64 / Math.max(state.width, state.height);
  const w = Math.max(1, Math.round(state.width * k));
  const h = Math.max(1, Math.round(state.height * k));
  const canvas = blankCanvas(w, h);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  try {
    ctx.drawImage(image, 0, 0, w, h);
    ctx.globalAlpha = 0.65;
    ctx.drawImage(state.canvas, 0, 0, w, h);
    return canvas.toDataURL("image/png");
  } catch {
    // A cross-origin image taints the canvas: show the mask on its own.
    const clean = blankCanvas(w, h);
    const plain = clean.getContext("2d");
    plain.fillStyle = "#1b1f24";
    plain.fillRect(0, 0, w, h);
    plain.drawImage(state.canvas, 0, 0, w, h);
    return clean.toDataURL("image/png");
  }
}
