// Loads the mask row's script (index.js) once the row can be used: it is hidden until the
// form has a reference image, so a first visit does not pay for it. The URL comes from the
// row's data-mask-row-src (a hashed name in production). index.js needs no event it missed:
// it learns the first reference when the editor opens or the references change again.
function maskRow() {
  return (
    document.querySelector("#generate-form [data-mask-row]") ||
    document.querySelector("[data-mask-row]")
  );
}

let loading = null; // the promise of index.js once asked for
let loaded = false;

function loadRow() {
  const row = maskRow();
  if (loading || !row || !row.dataset.maskRowSrc) return loading;
  loading = import(new URL(row.dataset.maskRowSrc, document.baseURI).href);
  loading.then(
    () => { loaded = true; },
    () => { loading = null; }, // a later change tries again
  );
  return loading;
}

// A click on "Paint a mask" that comes before index.js has loaded waits for it.
document.addEventListener("click", (event) => {
  const button = !loaded && event.target.closest && event.target.closest("[data-open-mask-editor]");
  if (!button) return;
  event.preventDefault();
  const pending = loadRow();
  if (pending) pending.then((row) => row.open()).catch(() => {});
});

function loadIfShown() {
  const row = maskRow();
  if (row && !row.hidden) loadRow();
}

document.addEventListener("references:changed", (event) => {
  if (event.detail && event.detail.count) loadRow();
});
document.addEventListener("htmx:afterSettle", loadIfShown);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loadIfShown);
else loadIfShown();
