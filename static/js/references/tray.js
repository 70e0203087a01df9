// The tray's state and the form fields that carry it. The hidden `image[]` input always
// holds the uploads in chip order and `image_order` describes every chip
// ("upload,gallery:12,upload"), so a plain submit and htmx's multipart submit agree.
// The first chip is the image a mask applies to.

import {
  chipsOf,
  describe,
  enhance,
  forget,
  formOf,
  galleryChip,
  keyOf,
  listOf,
  maxOf,
  nameOf,
  uploadChip,
} from "./chips.js";
import { announce, flip, pulse, showProblems } from "./feedback.js";
import {
  chipLabel,
  clampIndex,
  countText,
  hasGalleryImage,
  movedMessage,
  orderValue,
  plural,
  referenceName,
  removeLabel,
  screenFiles,
  tooManyMessage,
} from "./logic.js";

const sectionState = new WeakMap(); // section -> {signature, firstKey}
let pasteSeed = 0;

function label(section) {
  const chips = chipsOf(section);
  chips.forEach((chip, index) => {
    const name = nameOf(chip);
    const { width, height } = chip.dataset;
    chip.setAttribute("aria-label", chipLabel(index, chips.length, name, width, height));
    const remove = chip.querySelector("[data-remove]");
    if (remove) remove.setAttribute("aria-label", removeLabel(index, name));
  });
}

/** Position numbers and the first-image mark; also run live while a chip is dragged. */
export function renumber(section) {
  chipsOf(section).forEach((chip, index) => {
    chip.classList.toggle("is-first", index === 0);
    const number = chip.querySelector(".reference-index");
    if (number) number.textContent = String(index + 1);
  });
}

/**
 * Visibility that depends on having references; cheap and idempotent, so it also runs
 * after htmx swaps parts of the form (e.g. the model's parameter controls).
 */
export function applyVisibility(section) {
  const form = formOf(section);
  const any = chipsOf(section).length > 0;
  form.classList.toggle("has-references", any);
  const row = form.querySelector("[data-mask-row]");
  if (row && row.hidden === any) row.hidden = !any;
  form.querySelectorAll("[data-field=input_fidelity]").forEach((field) => {
    if (field.hidden === any) field.hidden = !any;
  });
}

function fillUploadInput(section, items) {
  const uploadInput = section.querySelector("[data-upload-input]");
  if (!uploadInput) return;
  try {
    const transfer = new DataTransfer();
    items.filter((item) => item.kind === "upload").forEach((item) => transfer.items.add(item.file));
    uploadInput.files = transfer.files;
  } catch {
    // Very old browsers: without a settable FileList nothing can carry the files.
    showProblems(section, ["This browser cannot attach the images; please update it."]);
  }
}

/** Writes the chips into the form fields and tells the page when the set changed. */
export function sync(section, { initial = false, announcement = "" } = {}) {
  const form = formOf(section);
  const chips = chipsOf(section);
  const items = chips.map(describe).filter(Boolean);
  renumber(section);
  label(section);
  fillUploadInput(section, items);
  const order = orderValue(items);
  const orderInput = section.querySelector("[data-image-order]");
  if (orderInput) orderInput.value = order;
  const max = maxOf(section);
  const count = section.querySelector("[data-reference-count]");
  if (count) count.textContent = countText(chips.length, max);
  section.classList.toggle("is-full", chips.length >= max);
  applyVisibility(section);

  const state = sectionState.get(section) || { signature: null, firstKey: "" };
  const signature = chips.map(keyOf).join(",");
  const firstKey = chips.length ? keyOf(chips[0]) : "";
  const firstChanged = state.signature !== null && firstKey !== state.firstKey;
  const changed = state.signature !== signature;
  sectionState.set(section, { signature, firstKey });
  if (changed && !initial) {
    // The server's errors about the previous set of references no longer apply.
    section.querySelectorAll("[data-error-for]").forEach((error) => {
      error.hidden = true;
    });
  }
  if (changed || initial) {
    const detail = { count: chips.length, firstChanged, order, first: items[0] || null, initial };
    form.dispatchEvent(new CustomEvent("references:changed", { bubbles: true, detail }));
  }
  if (announcement) announce(section, announcement);
}

function asReferenceFile(file, type, origin) {
  const name = referenceName(file.name || "", type, origin, () => ++pasteSeed);
  if (name === file.name && type === file.type) return file;
  return new File([file], name, { type, lastModified: file.lastModified || Date.now() });
}

function measured(chip) {
  const section = chip.closest("[data-references]");
  if (section) label(section);
  // The pricing panel counts reference pixels: tell it the size is now known.
  chip.dispatchEvent(new CustomEvent("references:measured", { bubbles: true }));
}

function unreadable(chip) {
  const section = chip.closest("[data-references]");
  const name = nameOf(chip);
  removeChip(section, chip, { silent: true });
  showProblems(section, [name + ": could not be read as an image"]);
}

/** Adds files from `origin` ("picker", "paste", "drop", "api"); returns how many. */
export function addFiles(section, fileList, origin) {
  if (!section) return 0;
  const files = Array.from(fileList || []);
  if (!files.length) return 0;
  const max = maxOf(section);
  const room = max - chipsOf(section).length;
  const { accepted, problems } = screenFiles(files, room, max);
  const list = listOf(section);
  if (accepted.length) {
    const callbacks = { onMeasured: measured, onUnreadable: unreadable };
    flip(list, () => {
      for (const { file, type } of accepted) {
        list.appendChild(uploadChip(section, asReferenceFile(file, type, origin), callbacks));
      }
    });
  }
  showProblems(section, problems);
  if (accepted.length) {
    const total = chipsOf(section).length;
    const added = plural(accepted.length, "image", "images");
    sync(section, { announcement: added + " added; " + total + " in all." });
  }
  return accepted.length;
}

/** Adds an image of the gallery unless it is there already or the tray is full. */
export function addGalleryImage(section, image) {
  if (!section || !image || image.id == null) return false;
  const chips = chipsOf(section);
  if (hasGalleryImage(chips.map(describe).filter(Boolean), image.id)) {
    const existing = chips.find((chip) => describe(chip)?.id === String(image.id));
    showProblems(section, []);
    if (existing) pulse(existing);
    announce(section, "That image is already a reference.");
    return false;
  }
  const max = maxOf(section);
  if (chips.length >= max) {
    showProblems(section, [tooManyMessage(max, 1)]);
    return false;
  }
  const list = listOf(section);
  const chip = galleryChip(section, image);
  flip(list, () => list.appendChild(chip));
  showProblems(section, []);
  const total = chipsOf(section).length;
  sync(section, { announcement: "Gallery image added; " + total + " in all." });
  pulse(chip);
  return true;
}

export function removeChip(section, chip, { silent = false } = {}) {
  const index = chipsOf(section).indexOf(chip);
  const name = nameOf(chip);
  const hadFocus = chip.contains(document.activeElement);
  flip(listOf(section), () => chip.remove());
  forget(chip);
  if (!silent) showProblems(section, []);
  if (hadFocus) {
    const rest = chipsOf(section);
    const next = rest[Math.min(index, rest.length - 1)];
    const fallback = section.querySelector("[data-dropzone]");
    if (next) next.focus();
    else if (fallback) fallback.focus();
  }
  sync(section, { announcement: name + " removed." });
}

export function clear(section) {
  if (!section) return;
  for (const chip of chipsOf(section)) {
    chip.remove();
    forget(chip);
  }
  showProblems(section, []);
  sync(section, { announcement: "All reference images removed." });
}

/** Moves a chip to `index` (clamped), keeping its focus. */
export function moveTo(section, chip, index) {
  const chips = chipsOf(section);
  const from = chips.indexOf(chip);
  const to = clampIndex(index, chips.length);
  if (from < 0 || to === from) return;
  const list = listOf(section);
  const rest = chips.filter((other) => other !== chip);
  flip(list, () => list.insertBefore(chip, rest[to] || null));
  chip.focus({ preventScroll: false });
  sync(section, { announcement: movedMessage(nameOf(chip), to, chips.length) });
}

/** Makes a server-rendered tray live; true the first time for a section. */
export function initSection(section) {
  const dropzone = section.querySelector("[data-dropzone]");
  if (dropzone && !dropzone.hasAttribute("role")) {
    // Focusable for paste and Enter (opens the picker); it holds the picker's button.
    dropzone.setAttribute("role", "group");
    dropzone.setAttribute(
      "aria-label",
      "Add reference images: drop or paste them here, or press Enter to choose files",
    );
  }
  chipsOf(section).forEach(enhance);
  sync(section, { initial: true });
}
