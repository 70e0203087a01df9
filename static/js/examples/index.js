// Prompt examples: only this waits on the page. The first click on one loads the module that
// fills the form (fill.js, named by the row's data-examples-script-src), which then fetches
// the examples and their pictures: none of it weighs on the first page.

let filler = null; // the promise of fill.js
let attempts = 0;

// A module whose fetch failed stays failed under its URL: a retry asks under another one.
function loadFiller(src) {
  if (!filler) {
    const url = new URL(src, document.baseURI);
    if (attempts++) url.searchParams.set("retry", String(attempts));
    filler = import(url.href);
    filler.catch(() => {
      filler = null; // so that another click tries again
    });
  }
  return filler;
}

function sayLoadFailed(row) {
  const status = row.querySelector("[data-examples-status]");
  if (!status) return;
  status.dataset.tone = "warn";
  status.textContent = "The examples could not be loaded. Check the connection and try again.";
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-examples] [data-example]");
  if (!button) return;
  event.preventDefault();
  const row = button.closest("[data-examples]");
  button.setAttribute("aria-busy", "true");
  loadFiller(row.dataset.examplesScriptSrc).then(
    (module) => module.choose(button),
    () => {
      button.removeAttribute("aria-busy");
      sayLoadFailed(row);
    },
  );
});
