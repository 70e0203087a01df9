// Rules of the reference tray that need no page: which files are accepted, what they are
// called, the messages, the order field and the labels. Unit-tested in tests/js/.

export const ACCEPTED_TYPES = ["image/png", "image/jpeg", "image/webp"];
export const MAX_BYTES = 50 * 1024 * 1024; // the Images API refuses larger inputs
export const DEFAULT_MAX = 16;

const TYPE_BY_EXTENSION = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  jfif: "image/jpeg",
  webp: "image/webp",
};

/** The accepted image type of a file (from its type, else its extension), or null. */
export function imageType(file) {
  const type = (file.type || "").toLowerCase();
  if (ACCEPTED_TYPES.includes(type)) return type;
  if (type === "image/jpg" || type === "image/pjpeg") return "image/jpeg";
  if (type && type !== "application/octet-stream") return null;
  const match = /\.([a-z0-9]+)$/i.exec(file.name || "");
  return (match && TYPE_BY_EXTENSION[match[1].toLowerCase()]) || null;
}

export function extensionFor(type) {
  return type === "image/jpeg" ? "jpg" : type.split("/")[1];
}

/**
 * The name a new reference gets. Pasted screenshots are all called "image.png": they get
 * distinct names from `nextPasteNumber()`; nameless files get "image.<extension>".
 */
export function referenceName(name, type, origin, nextPasteNumber) {
  const extension = extensionFor(type);
  if (origin === "paste" && (!name || /^image\.(png|jpe?g|webp|gif)$/i.test(name))) {
    return "pasted-" + nextPasteNumber() + "." + extension;
  }
  return name || "image." + extension;
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

export function parseMax(value) {
  const max = parseInt(value, 10);
  return max > 0 ? max : DEFAULT_MAX;
}

export function tooManyMessage(max, ignored) {
  return (
    "At most " + max + " reference images: " +
    plural(ignored, "image was", "images were") + " ignored."
  );
}

/**
 * Sorts candidate files into those to add (with their image type) and the problems to show,
 * given how many more references fit (`room`) and the limit (`max`).
 */
export function screenFiles(files, room, max) {
  const problems = [];
  const valid = [];
  for (const file of files) {
    const type = imageType(file);
    const name = file.name || "Pasted item";
    if (!type) problems.push(name + ": only PNG, JPEG or WebP images");
    else if (file.size === 0) problems.push(name + ": the file is empty");
    else if (file.size > MAX_BYTES) problems.push(name + ": larger than 50 MB");
    else valid.push({ file, type });
  }
  const accepted = valid.slice(0, Math.max(0, room));
  const ignored = valid.length - accepted.length;
  if (ignored > 0) problems.push(tooManyMessage(max, ignored));
  return { accepted, problems };
}

/** Whether a gallery image is already among the references (`items` as from `list()`). */
export function hasGalleryImage(items, id) {
  return items.some((item) => item.kind === "gallery" && String(item.id) === String(id));
}

/** The `image_order` field: "upload,gallery:12,upload" for the references in order. */
export function orderValue(items) {
  return items.map((item) => (item.kind === "upload" ? "upload" : "gallery:" + item.id)).join(",");
}

/** The pricing panel's `reference_sizes`: "640x480,0x0" (0 while a size is unknown). */
export function referenceSizes(items) {
  return items.map((item) => (item.width || 0) + "x" + (item.height || 0)).join(",");
}

export function countText(count, max) {
  if (!count) return "";
  return (
    count + " of " + max + " reference image" + (max === 1 ? "" : "s") +
    " · sent to the edits endpoint"
  );
}

export function sizeText(width, height) {
  return width && height ? width + "×" + height : "";
}

/** The accessible name of a chip at `index` (0-based) of `total`. */
export function chipLabel(index, total, name, width, height) {
  const size = sizeText(width, height);
  return (
    "Reference " + (index + 1) + " of " + total + ": " + name + (size ? ", " + size : "") +
    (index === 0 ? ", the mask applies to this image" : "") +
    ". Alt+Arrow keys move it, Delete removes it."
  );
}

export function removeLabel(index, name) {
  return "Remove reference " + (index + 1) + ": " + name;
}

export function movedMessage(name, index, total) {
  return (
    name + " moved to position " + (index + 1) + " of " + total +
    (index === 0 ? "; the mask applies to it." : ".")
  );
}

export function clampIndex(index, length) {
  return Math.max(0, Math.min(length - 1, index));
}

/**
 * What a key pressed on the chip at `index` of `length` does: {move: i}, {focus: i},
 * {remove: true} or null. Alt moves the chip; plain arrows, Home and End move the focus.
 */
export function chipKeyAction(event, index, length) {
  const { key, altKey, ctrlKey, metaKey } = event;
  const back = key === "ArrowLeft" || key === "ArrowUp";
  const forward = key === "ArrowRight" || key === "ArrowDown";
  let to = null;
  if (back) to = index - 1;
  else if (forward) to = index + 1;
  else if (key === "Home") to = 0;
  else if (key === "End") to = length - 1;
  if (altKey && !ctrlKey && !metaKey) return to === null ? null : { move: to };
  if (ctrlKey || metaKey || altKey) return null;
  if (key === "Delete" || key === "Backspace") return { remove: true };
  if (to === null || to < 0 || to >= length) return null;
  return { focus: to };
}

/**
 * Where the dragged chip goes for a pointer at (x, y): the index of the chip it goes
 * before (`boxes.length` for the end), or -1 to stay put. `boxes` are the chips' settled
 * layout boxes ({left, top, width, height}) in order, `dragged` the dragged chip's index
 * and `listBox` the list's box. Over a chip it goes before it, or after it past its middle;
 * over the list's gaps past the last chip it goes to the end.
 */
export function dropSlot(x, y, boxes, dragged, listBox) {
  const inside = (box) =>
    x >= box.left && x < box.left + box.width && y >= box.top && y < box.top + box.height;
  const over = boxes.findIndex(inside);
  let slot = -1;
  if (over >= 0) {
    const box = boxes[over];
    slot = x > box.left + box.width / 2 ? over + 1 : over;
  } else if (listBox && inside(listBox) && boxes.length) {
    const last = boxes[boxes.length - 1];
    const below = y >= last.top + last.height;
    const beside = y >= last.top && x >= last.left + last.width;
    if (below || beside) slot = boxes.length;
  }
  return slot === dragged || slot === dragged + 1 ? -1 : slot;
}
