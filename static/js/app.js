// Small behaviours on top of htmx: keyboard submit, live character count,
// controls that depend on other controls, and ticking elapsed times.
(function () {
  "use strict";

  function syncDependentControls(form) {
    const format = form.querySelector("[name=output_format]");
    const compression = form.querySelector("[data-field=output_compression]");
    if (format && compression) {
      const lossy = format.value === "jpeg" || format.value === "webp";
      compression.hidden = !lossy;
      compression.querySelector("input").disabled = !lossy;
    }
    const background = form.querySelector("[name=background]");
    if (format && background) {
      const transparent = background.querySelector("option[value=transparent]");
      if (transparent) {
        transparent.disabled = format.value === "jpeg";
        if (transparent.disabled && background.value === "transparent") background.value = "auto";
      }
    }
    const prompt = form.querySelector("[name=prompt]");
    const count = form.querySelector("[data-prompt-count]");
    if (prompt && count) count.textContent = prompt.value.length.toLocaleString();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target.closest && event.target.closest("#generate-form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.addEventListener("input", function (event) {
    const form = event.target.closest && event.target.closest("#generate-form");
    if (form) syncDependentControls(form);
  });
  document.addEventListener("change", function (event) {
    const form = event.target.closest && event.target.closest("#generate-form");
    if (form) syncDependentControls(form);
  });
  document.addEventListener("htmx:afterSettle", function () {
    const form = document.getElementById("generate-form");
    if (form) syncDependentControls(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("generate-form");
    if (form) syncDependentControls(form);
  });

  // Size: radios named `size` carry the value; the custom W x H text box only edits the value
  // of the "Custom" radio, so exactly one `size` is posted, with or without this script.
  function syncCustomSize(text) {
    const picker = text.closest("[data-size-picker]");
    const custom = picker && picker.querySelector("[data-size-custom]");
    if (!custom) return;
    custom.value = text.value.trim();
    if (!custom.checked) {
      custom.checked = true;
      custom.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-size-custom-input]")) syncCustomSize(event.target);
  });
  document.addEventListener("change", function (event) {
    const radio = event.target;
    if (!radio.matches || !radio.matches("[data-size-custom]") || !radio.checked) return;
    const text = radio.closest("[data-size-picker]").querySelector("[data-size-custom-input]");
    if (!text) return;
    if (!text.value.trim()) {
      // Start from the preset chosen before, to be edited.
      const last = radio.closest("[data-size-picker]").dataset.lastPreset;
      text.value = last && last !== "auto" ? last : "1024x1024";
      radio.value = text.value;
    }
    if (document.activeElement === radio) text.focus();
  });
  document.addEventListener("change", function (event) {
    const radio = event.target;
    if (radio.matches && radio.matches("[data-size-picker] input[type=radio]:not([data-size-custom])")) {
      radio.closest("[data-size-picker]").dataset.lastPreset = radio.value;
    }
  });

  // The cost table is folded when the screen is short; it stays open otherwise.
  const shortScreen = window.matchMedia("(min-width: 901px) and (max-height: 780px)");
  function foldPricing() {
    const panel = document.querySelector("[data-pricing]");
    if (panel) panel.open = !shortScreen.matches;
  }
  document.addEventListener("DOMContentLoaded", foldPricing);
  shortScreen.addEventListener("change", foldPricing);

  // A card that is no longer the newest stops asking for the large rendition when it finishes.
  document.addEventListener("htmx:configRequest", function (event) {
    const card = event.detail.elt;
    if (!card.matches || !card.matches("#results > article.job") || !/[?&]large=1/.test(event.detail.path)) return;
    if (card !== document.querySelector("#results > article.job:not(.job-refused)")) {
      event.detail.path = event.detail.path.replace(/[?&]large=1/, "");
    }
  });

  // Job cards follow their jobs through the page's event stream (htmx's sse extension keeps
  // it open and reconnects it). An event names a job and its revision; the card of that job
  // fetches itself when it shows an older one. Cards poll only while the stream is down and
  // the page is shown: then a "job-poll" event reaches each following card once a second.
  // The state is on <html data-push="...">, for styles and tests.
  // A hidden tab closes its stream (a browser allows about six connections to a server over
  // HTTP/1.1, and each open stream keeps one) and catches up when it is shown again.
  const CONNECT_PATIENCE_MS = 3000;
  let pushState = "connecting"; // connecting | live | down | paused
  let currentSource = null;
  let resuming = false;
  function setPushState(state) {
    pushState = state;
    document.documentElement.dataset.push = state;
    if (state === "connecting") {
      window.setTimeout(function () { if (pushState === "connecting") setPushState("down"); }, CONNECT_PATIENCE_MS);
    }
  }
  setPushState("connecting");
  const POLL_INTERVAL_MS = 1000;
  window.setInterval(function () {
    if (pushState !== "down" || document.hidden) return;
    followingCards().forEach(function (card) { htmx.trigger(card, "job-poll"); });
  }, POLL_INTERVAL_MS);
  // The extension asks this hook for its EventSource: keep it, to close it while hidden.
  htmx.createEventSource = function (url) {
    const source = new EventSource(url, { withCredentials: true });
    currentSource = source;
    if (document.hidden) source.close(); // opened again when the page is shown
    return source;
  };
  document.addEventListener("visibilitychange", function () {
    if (!currentSource) return;
    if (document.hidden) {
      currentSource.close();
      setPushState("paused");
    } else if (pushState === "paused" || currentSource.readyState === EventSource.CLOSED) {
      setPushState("connecting");
      // The extension reconnects a source that reports an error once it is closed.
      resuming = true;
      if (currentSource.readyState === EventSource.CLOSED && currentSource.onerror) {
        currentSource.onerror(new Event("error"));
      }
      resuming = false;
    }
  });
  const announced = new Map(); // job id -> newest revision announced
  const asked = new Map(); // job id -> [revision, times asked for it]
  const streams = new WeakSet();

  function bringUpToDate(card) {
    const wanted = announced.get(card.dataset.job);
    if (!wanted || wanted === card.dataset.revision || !card.hasAttribute("data-following")) return;
    const [revision, times] = asked.get(card.dataset.job) || ["", 0];
    if (revision === wanted && times >= 2) return; // never spin on a revision that does not come
    asked.set(card.dataset.job, [wanted, revision === wanted ? times + 1 : 1]);
    htmx.trigger(card, "job-changed");
  }
  function followingCards() {
    return document.querySelectorAll("article.job[data-following]");
  }
  function onJobEvent(event) {
    let job;
    try {
      job = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    announced.set(String(job.id), job.rev);
    const card = document.getElementById("job-" + job.id);
    if (!card) return;
    if (job.display && card === document.querySelector("#results > article.job")) {
      // The newest card shows its images large: start loading them while it fetches itself.
      job.display.forEach(function (url) { new Image().src = url; });
    }
    bringUpToDate(card);
  }
  function catchUp() {
    // Changes made while the stream was closed were not announced: every running card asks.
    followingCards().forEach(function (card) { htmx.trigger(card, "job-changed"); });
  }
  document.addEventListener("htmx:sseOpen", function (event) {
    const source = event.detail.source;
    if (!streams.has(source)) {
      streams.add(source);
      source.addEventListener("job", onJobEvent);
      source.addEventListener("catch-up", catchUp);
    }
    const wasLive = pushState === "live";
    setPushState("live");
    if (!wasLive) catchUp();
  });
  function streamLost() {
    if (!resuming && pushState !== "paused") setPushState("down");
  }
  document.addEventListener("htmx:sseError", streamLost);
  document.addEventListener("htmx:sseClose", streamLost);
  // A card that arrives (a new job, or a fetched state) may already be behind an announcement.
  document.addEventListener("htmx:load", function (event) {
    const card = event.detail.elt;
    if (card.matches && card.matches("article.job[data-following]")) bringUpToDate(card);
  });

  function formatSeconds(seconds) {
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const minutes = Math.floor(seconds / 60);
    const rest = Math.floor(seconds % 60);
    return minutes + " min " + String(rest).padStart(2, "0") + " s";
  }
  setInterval(function () {
    const now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (element) {
      element.textContent = formatSeconds(Math.max(0, now - Number(element.dataset.since)));
    });
  }, 100);
})();
