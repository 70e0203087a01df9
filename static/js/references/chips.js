// Finding the tray and its chips, and making chips from the page's
// <template data-reference-template> (templates/generations/reference_chip_template.html).

import { parseMax } from "./logic.js";

const uploads = new WeakMap(); // upload chip -> {file, url}
const liveUrls = new Map(); // object URL -> chip, to revoke what a swap threw away
let keySeed = 0;

export function findSection() {
  return (
    document.querySelector("#generate-form [data-references]") ||
    document.querySelector("[data-references]")
  );
}

export function formOf(section) {
  return section.closest("form") || section.parentElement;
}

export function listOf(section) {
  return section.querySelector("[data-reference-list]");
}

export function chipsOf(section) {
  const list = listOf(section);
  return list ? Array.from(list.children).filter((node) => node.matches("[data-reference]")) : [];
}

export function maxOf(section) {
  return parseMax(section.dataset.max);
}

export function keyOf(chip) {
  if (!chip.dataset.key) chip.dataset.key = "r" + ++keySeed;
  return chip.dataset.key;
}

export function galleryId(chip) {
  const input = chip.querySelector("input[name=reference]");
  return input ? input.value : "";
}

export function uploadOf(chip) {
  return uploads.get(chip) || null;
}

export function nameOf(chip) {
  if (chip.dataset.kind === "upload") {
    const entry = uploads.get(chip);
    return entry ? entry.file.name : "image";
  }
  return chip.dataset.name || "Gallery image " + galleryId(chip);
}

/** What the API hands out about a chip (see index.js). */
export function describe(chip) {
  if (!chip) return null;
  const width = parseInt(chip.dataset.width, 10) || null;
  const height = parseInt(chip.dataset.height, 10) || null;
  if (chip.dataset.kind === "upload") {
    const entry = uploads.get(chip);
    if (!entry) return null;
    const { file, url } = entry;
    return { kind: "upload", src: url, width, height, name: file.name, file, key: keyOf(chip) };
  }
  const img = chip.querySelector("img");
  const thumb = chip.dataset.thumb || (img && img.src) || "";
  return {
    kind: "gallery",
    id: galleryId(chip),
    src: chip.dataset.src || thumb,
    thumb,
    width,
    height,
    name: nameOf(chip),
    key: keyOf(chip),
  };
}

function cloneTemplate(section) {
  const template =
    section.querySelector("template[data-reference-template]") ||
    document.querySelector("template[data-reference-template]");
  if (!template) throw new Error("The page has no <template data-reference-template>.");
  return template.content.firstElementChild.cloneNode(true);
}

/** Adds what the script needs to any chip, server-rendered or cloned: a key and focus. */
export function enhance(chip) {
  keyOf(chip);
  chip.tabIndex = 0;
  const img = chip.querySelector("img");
  if (img) {
    img.draggable = false;
    if (chip.dataset.kind === "gallery" && (!chip.dataset.width || !chip.dataset.height)) {
      // A thumbnail only tells the aspect ratio; the mask editor reads the real size.
      const onLoad = () => {
        chip.dataset.aspect = String(img.naturalWidth / img.naturalHeight);
      };
      img.addEventListener("load", onLoad, { once: true });
    }
  }
  if (!chip.title) chip.title = nameOf(chip);
  return chip;
}

/**
 * A chip for an uploaded file. `onMeasured` runs once its pixel size is known,
 * `onUnreadable` when the browser cannot decode it.
 */
export function uploadChip(section, file, { onMeasured, onUnreadable }) {
  const chip = cloneTemplate(section);
  chip.dataset.kind = "upload";
  chip.title = file.name;
  chip.querySelector("input[name=reference]")?.remove();
  const url = URL.createObjectURL(file);
  uploads.set(chip, { file, url });
  liveUrls.set(url, chip);
  const img = chip.querySelector("img");
  const measured = () => {
    chip.dataset.width = String(img.naturalWidth);
    chip.dataset.height = String(img.naturalHeight);
    chip.title = file.name + " · " + img.naturalWidth + "×" + img.naturalHeight;
    onMeasured(chip);
  };
  const failed = () => {
    if (chip.isConnected) onUnreadable(chip);
  };
  img.addEventListener("load", measured, { once: true });
  img.addEventListener("error", failed, { once: true });
  img.src = url;
  return enhance(chip);
}

/** A chip for an image of the gallery: {id, src, thumb, width, height, name}. */
export function galleryChip(section, image) {
  const chip = cloneTemplate(section);
  chip.dataset.kind = "gallery";
  chip.dataset.src = image.src || "";
  chip.dataset.thumb = image.thumb || image.src || "";
  if (image.width) chip.dataset.width = String(image.width);
  if (image.height) chip.dataset.height = String(image.height);
  if (image.name) chip.dataset.name = image.name;
  chip.querySelector("img").src = chip.dataset.thumb;
  chip.querySelector("input[name=reference]").value = String(image.id);
  return enhance(chip);
}

/** Lets go of an upload chip's object URL. */
export function forget(chip) {
  const entry = uploads.get(chip);
  if (entry) {
    URL.revokeObjectURL(entry.url);
    liveUrls.delete(entry.url);
    uploads.delete(chip);
  }
}

/** Revokes the object URLs of chips no longer in the page (e.g. after an htmx swap). */
export function forgetDetached() {
  liveUrls.forEach((chip, url) => {
    if (!chip.isConnected) {
      URL.revokeObjectURL(url);
      liveUrls.delete(url);
    }
  });
}

// A modal dialog (such as the mask editor) owns paste and drop while it is open.
export function dialogOpen() {
  try {
    return !!document.querySelector("dialog:modal");
  } catch {
    return !!document.querySelector("dialog.mask-editor[open]");
  }
}
