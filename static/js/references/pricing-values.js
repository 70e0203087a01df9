// What the pricing panel needs from the form besides its fields: the prompt's length (not
// the prompt itself) and the pixel sizes of the references (not the files).

import { chipsOf, describe, findSection } from "./chips.js";
import { referenceSizes } from "./logic.js";

function promptChars() {
  const prompt = document.querySelector("#generate-form [name=prompt]");
  return prompt ? prompt.value.length : 0;
}

function currentReferenceSizes() {
  const section = findSection();
  return section ? referenceSizes(chipsOf(section).map(describe).filter(Boolean)) : "";
}

document.addEventListener("htmx:configRequest", (event) => {
  const element = event.detail.elt;
  if (!element || !element.matches || !element.matches("[data-pricing]")) return;
  event.detail.parameters.prompt_chars = String(promptChars());
  event.detail.parameters.reference_sizes = currentReferenceSizes();
});
