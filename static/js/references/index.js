// Reference images for edits: a tray of chips filled by drag and drop, paste or a file
// picker, reorderable by pointer or keyboard. Other modules use the functions below;
// the tray tells the page about changes with the bubbling events "references:changed"
// (detail: count, firstChanged, order, first, initial) and "references:measured".

import { addFiles, addGalleryImage, clear, count, first, initAll, list } from "./api.js";
import "./reorder.js";
import "./input.js";
import "./gallery-links.js";
import "./pricing-values.js";

export { addFiles, addGalleryImage, clear, count, first, list };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
else initAll();
document.addEventListener("htmx:afterSwap", initAll); // before settling: no flash of hidden fields
document.addEventListener("htmx:afterSettle", initAll);
