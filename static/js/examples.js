// Prompt examples: only this waits on the page. The first click on one loads the code that
// fills the form (examples-fill.js, named by the row's data-examples-script-src), which then
// fetches the examples and their pictures: none of it weighs on the first page.
(function () {
  "use strict";

  let loading = null;

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-examples] [data-example]");
    if (!button) return;
    event.preventDefault();
    const row = button.closest("[data-examples]");
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = row.dataset.examplesScriptSrc;
        script.onload = resolve;
        script.onerror = function () {
          script.remove();
          loading = null; // so that another click tries again
          reject(new Error("Could not load " + script.src));
        };
        document.head.appendChild(script);
      });
    }
    button.setAttribute("aria-busy", "true");
    loading.then(function () {
      window.PlaygroundExamples.choose(button);
    }, function () {
      button.removeAttribute("aria-busy");
      const status = row.querySelector("[data-examples-status]");
      status.dataset.tone = "warn";
      status.textContent = "The examples could not be loaded. Check the connection and try again.";
    });
  });
})();
