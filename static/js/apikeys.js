// API keys: the Copy button beside a key shown once, on the account page and in the admin.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const input = document.querySelector(button.getAttribute("data-copy"));
    const status = button.parentElement.querySelector("[data-copy-status]");
    if (!input) return;
    function say(text) { if (status) status.textContent = text; }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { say("Copied."); },
        function () { say("Press Ctrl+C (⌘C) to copy."); }
      );
    } else {
      // Plain http on a LAN address has no Clipboard API: the selection above lets Ctrl+C work.
      say(document.execCommand && document.execCommand("copy") ? "Copied." : "Press Ctrl+C (⌘C) to copy.");
    }
  });
})();
