// Gallery selection: the ticked images' count in the toolbar (shown once one is ticked),
// "Select page" / "Clear", and the ticked ids copied into the Share dialog's form. The
// checkboxes belong to #gallery-selection (Download ZIP, Delete) without any script.
(function () {
  "use strict";

  const BOX = "input[data-selection-box]";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll(BOX));
  }

  function ticked() {
    return boxes().filter(function (box) { return box.checked; });
  }

  // The Share form takes one hidden `image` input per chosen image (see share_form.html).
  function syncShare() {
    const form = document.getElementById("gallery-share");
    if (!form) return;
    form.querySelectorAll("input[data-selection-copy]").forEach(function (input) { input.remove(); });
    ticked().forEach(function (box) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "image";
      input.value = box.value;
      input.setAttribute("data-selection-copy", "");
      form.appendChild(input);
    });
  }

  function update() {
    const bar = document.querySelector("[data-selection-bar]");
    if (!bar) return;
    const count = ticked().length;
    const all = boxes().length;
    bar.hidden = count === 0;
    bar.querySelector("[data-selection-count]").textContent =
      count + " image" + (count === 1 ? "" : "s") + " selected";
    const selectAll = bar.querySelector("[data-select-all]");
    const selectNone = bar.querySelector("[data-select-none]");
    selectAll.hidden = count === all;
    selectNone.hidden = false;
    syncShare();
  }

  function setAll(checked) {
    boxes().forEach(function (box) { box.checked = checked; });
    update();
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(BOX)) update();
  });

  document.addEventListener("click", function (event) {
    const target = event.target.closest ? event.target.closest("[data-select-all], [data-select-none]") : null;
    if (target) setAll(target.hasAttribute("data-select-all"));
  });

  // Before the Share dialog counts what it will share (its own listener runs after this one).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-selection-bar] [data-share-open]")) syncShare();
  }, true);

  // New results (filters, another page) have nothing ticked; Delete returns to their URL.
  document.addEventListener("htmx:afterSettle", update);
  function rememberPage() {
    const next = document.querySelector("[data-selection-next]");
    if (next) next.value = window.location.pathname + window.location.search;
  }
  document.addEventListener("htmx:pushedIntoHistory", rememberPage);
  window.addEventListener("popstate", rememberPage);

  document.addEventListener("DOMContentLoaded", update);
})();
