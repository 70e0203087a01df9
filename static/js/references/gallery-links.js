// "Use as reference" on a result adds it to the form's references without leaving the page;
// without scripts the link opens the playground with that reference.

import { addGalleryImage } from "./api.js";

function onClick(event) {
  const link = event.target.closest && event.target.closest("[data-use-as-reference]");
  if (!link) return;
  event.preventDefault();
  addGalleryImage({
    id: link.dataset.id,
    src: link.dataset.src,
    thumb: link.dataset.thumb,
    width: Number(link.dataset.width),
    height: Number(link.dataset.height),
  });
  const form = document.getElementById("generate-form");
  if (form) form.scrollIntoView({ behavior: "smooth", block: "start" });
}

document.addEventListener("click", onClick);
