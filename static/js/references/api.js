// The tray as other scripts use it (re-exported by index.js): the page's one tray.

import { chipsOf, describe, findSection, forgetDetached } from "./chips.js";
import { addFiles as addFilesTo, addGalleryImage as addGalleryImageTo } from "./tray.js";
import { applyVisibility, clear as clearSection, initSection } from "./tray.js";

const ready = new WeakSet();

/** Makes every tray of the page live; after an htmx swap, refreshes what depends on it. */
export function initAll() {
  document.querySelectorAll("[data-references]").forEach((section) => {
    if (ready.has(section)) {
      applyVisibility(section);
      return;
    }
    ready.add(section);
    initSection(section);
  });
  forgetDetached(); // object URLs of chips an htmx swap threw away
}

/** Adds image files (a FileList or an array of File); returns how many were added. */
export function addFiles(fileList) {
  initAll();
  return addFilesTo(findSection(), fileList, "api");
}

/** Adds a gallery image {id, src, thumb, width, height, name}; false if it was not added. */
export function addGalleryImage(image) {
  initAll();
  return addGalleryImageTo(findSection(), image);
}

export function clear() {
  const section = findSection();
  if (section) clearSection(section);
}

/** The first reference (the one a mask applies to), or null. */
export function first() {
  const section = findSection();
  return section ? describe(chipsOf(section)[0]) : null;
}

export function count() {
  const section = findSection();
  return section ? chipsOf(section).length : 0;
}

export function list() {
  const section = findSection();
  return section ? chipsOf(section).map(describe) : [];
}
