// "View code": opens the dialog, asks the server for the code of the form's current values
// (each time, so it follows every change), and copies a snippet.
(function () {
  "use strict";

  const dialog = document.getElementById("view-code");
  const opener = document.querySelector("[data-view-code-open]");
  if (!dialog || !opener || !dialog.showModal) return;
  const body = dialog.querySelector("#view-code-body");
  const status = dialog.querySelector("[data-view-code-status]");
  opener.hidden = false;

  function say(message) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 30);
  }

  function showError(message) {
    const box = document.createElement("div");
    box.className = "error-box";
    box.setAttribute("role", "alert");
    box.textContent = message;
    body.replaceChildren(box);
  }

  opener.addEventListener("click", function () {
    dialog.showModal();
    body.dispatchEvent(new CustomEvent("view-code:open"));
  });
  dialog.addEventListener("close", function () { opener.focus(); });
  // A click on the backdrop, outside the dialog's box, closes it.
  dialog.addEventListener("click", function (event) {
    const box = dialog.getBoundingClientRect();
    const outside = event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
    if (event.target === dialog && outside) dialog.close();
  });
  // The tab radios are not the form's settings: keep the pricing panel from reloading.
  ["change", "input"].forEach(function (type) {
    dialog.addEventListener(type, function (event) { event.stopPropagation(); });
  });

  // What the code needs of the files: how many references, and whether a mask is set.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== body) return;
    const form = document.getElementById("generate-form");
    const count = form ? form.querySelectorAll("[data-reference]").length : 0;
    const mask = form && form.querySelector("input[type=file][name=mask]");
    event.detail.parameters.reference_count = String(count);
    event.detail.parameters.has_mask = count && mask && mask.files.length ? "1" : "0";
  });
  // Answers htmx does not swap: a plain-text 4xx names the field (e.g. a NUL byte in the prompt).
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.elt !== body) return;
    const xhr = event.detail.xhr;
    const plain = xhr.status < 500 && /^text\/plain/.test(xhr.getResponseHeader("Content-Type") || "");
    showError(plain ? xhr.responseText : "The code could not be loaded (" + xhr.status + "). Close and try again.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt === body) showError("The server did not answer. Close and try again.");
  });

  function select(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  dialog.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    const code = button.closest(".code-snippet").querySelector("code");
    function copied() {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
      say("Copied");
    }
    function fallback() {
      select(code);
      let done = false;
      try { done = document.execCommand("copy"); } catch (error) { done = false; }
      if (done) copied();
      else say("The code is selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code.textContent).then(copied, fallback);
    else fallback();
  });
})();
