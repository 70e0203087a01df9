// Share links: open the Share dialog, say how many images it will share, copy a link, and
// clear the last result when the dialog closes. Included once per Share button: set up once,
// with listeners on the document so dialogs swapped in later work too.
(function () {
  "use strict";

  if (window.playgroundShare) return;
  window.playgroundShare = true;

  function chosenCount(form) {
    let count = 0;
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name !== "image") return;
      if (input.type === "hidden" || input.checked) count += 1;
    });
    return count;
  }

  function describe(dialog) {
    const form = dialog.querySelector("form.share-form");
    const out = dialog.querySelector("[data-share-count]");
    if (!form || !out) return;
    const count = chosenCount(form);
    out.textContent = count === 0
      ? "No image is chosen yet: tick at least one, then come back."
      : "Sharing " + count + " image" + (count === 1 ? "" : "s") + ".";
  }

  function say(scope, message) {
    const status = scope.querySelector("[data-share-status]");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 30);
  }

  function copy(button) {
    const scope = button.closest(".share-created, .share-row, .share-url") || document;
    const field = scope.querySelector("[data-share-url]");
    if (!field) return;
    const label = button.textContent;
    function copied() {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
      say(scope, "Link copied");
    }
    function fallback() {
      field.focus();
      field.select();
      let done = false;
      try { done = document.execCommand("copy"); } catch (error) { done = false; }
      if (done) copied();
      else say(scope, "The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(copied, fallback);
    else fallback();
  }

  document.addEventListener("click", function (event) {
    const target = event.target;
    if (!target.closest) return;
    const opener = target.closest("[data-share-open]");
    if (opener) {
      // Browsers with invoker commands open it from commandfor too; showModal once is enough.
      const dialog = document.getElementById(opener.getAttribute("commandfor"));
      if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
      if (dialog) describe(dialog);
      return;
    }
    const copier = target.closest("[data-share-copy]");
    if (copier) {
      copy(copier);
      return;
    }
    // A click on the backdrop, outside the dialog's box, closes it.
    if (target.matches && target.matches("dialog[data-share-dialog]")) {
      const box = target.getBoundingClientRect();
      const outside = event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
      if (outside) target.close();
    }
  });

  // The dialog opened natively (commandfor) still gets its count.
  document.addEventListener("toggle", function (event) {
    const dialog = event.target;
    if (dialog.matches && dialog.matches("dialog[data-share-dialog]") && event.newState === "open") describe(dialog);
  }, true);

  // Closed after a link was made: the next opening starts from the form again.
  document.addEventListener("close", function (event) {
    const dialog = event.target;
    if (!dialog.matches || !dialog.matches("dialog[data-share-dialog]")) return;
    const result = dialog.querySelector("[data-share-result]");
    if (result) result.replaceChildren();
  }, true);

  // "On a date" moves the focus to the date; an error the server can't swap in is shown.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches(".share-form [name=expiry][value=date]") || !input.checked) return;
    const date = input.form.querySelector("[name=expires_on]");
    if (date) date.focus();
  });
  // A new link: its address selected, the Copy button focused, ready for Enter.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target.matches || !target.matches("[data-share-result]")) return;
    const field = target.querySelector("[data-share-url]");
    const button = target.querySelector("[data-share-copy]");
    if (field) field.select();
    if (button) button.focus();
  });
  document.addEventListener("htmx:responseError", function (event) {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("form.share-form")) return;
    const fields = form.querySelector("[data-share-fields]");
    const box = document.createElement("div");
    box.className = "error-box";
    box.setAttribute("role", "alert");
    box.textContent = "The link could not be created (" + event.detail.xhr.status + "). Try again.";
    fields.prepend(box);
  });
})();
