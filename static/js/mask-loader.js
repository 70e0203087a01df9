// The mask row of the playground's form, always on the page: the mask's state per form, the
// status line, the uploaded mask, "Remove mask", and what happens to the mask when the first
// reference image changes. The editor itself (mask-canvas.js and mask-editor.js, most of the
// weight) loads on the first click of "Paint a mask", from the URLs in the mask row's
// data-mask-canvas-src and data-mask-editor-src attributes (whitenoise's hashed names).
(function () {
  "use strict";

  const states = new WeakMap(); // form -> mask state (survives closing the editor)
  let editor = null; // mask-editor.js, once it has run: {open, close, apply, paintedFraction, isOpen}
  let loading = null; // the promise of the editor while its scripts load

  // ---------------------------------------------------------------- form state

  function currentForm() {
    const section = document.querySelector("#generate-form [data-references]") || document.querySelector("[data-references]");
    return section ? section.closest("form") || section.parentElement : document.getElementById("generate-form");
  }

  function stateFor(form) {
    let state = states.get(form);
    if (!state) {
      const status = form.querySelector("[data-mask-status]");
      state = {
        ops: [],
        redo: [],
        committed: [],
        committedRedo: [],
        discarded: null,
        key: null,
        canvas: null,
        width: 0,
        height: 0,
        size: null,
        source: null, // "painted" | "uploaded" | null: what the mask input holds
        lastPoint: null,
        defaultStatus: (status && status.textContent.trim()) || "No mask: the whole image may change.",
      };
      states.set(form, state);
    }
    return state;
  }

  function hasState(form) {
    return states.has(form);
  }

  function resetHistory(state) {
    state.ops = [];
    state.redo = [];
    state.committed = [];
    state.committedRedo = [];
    state.discarded = null;
    state.lastPoint = null;
    if (state.canvas) state.canvas.getContext("2d").clearRect(0, 0, state.width, state.height);
  }

  function maskInput(form) {
    return form.querySelector("[data-mask-input]") || form.querySelector("input[type=file][name=mask]");
  }

  function setMaskFile(form, file) {
    const field = maskInput(form);
    if (!field) return;
    try {
      const transfer = new DataTransfer();
      if (file) transfer.items.add(file);
      field.files = transfer.files;
    } catch (error) {
      if (!file) field.value = "";
    }
  }

  function setStatus(form, text, options) {
    options = options || {};
    const state = stateFor(form); // first, so it remembers the server's default text
    const status = form.querySelector("[data-mask-status]");
    if (status) {
      status.replaceChildren();
      if (options.preview) {
        const img = document.createElement("img");
        img.className = "mask-status-preview";
        img.alt = "";
        img.src = options.preview;
        status.appendChild(img);
      }
      const span = document.createElement("span");
      span.textContent = text;
      status.appendChild(span);
      if (options.tone) status.dataset.tone = options.tone;
      else delete status.dataset.tone;
      status.setAttribute("aria-live", "polite");
    }
    // A server error about the previous mask no longer applies.
    form.querySelectorAll("[data-mask-row] [data-error-for]").forEach(function (error) { error.hidden = true; });
    const hasMask = !!(maskInput(form) && maskInput(form).files.length);
    const clear = form.querySelector("[data-clear-mask]");
    if (clear) clear.hidden = !hasMask;
    form.classList.toggle("has-mask", hasMask);
    form.dispatchEvent(new CustomEvent("mask:changed", {
      bubbles: true,
      detail: { hasMask: hasMask, source: state.source },
    }));
  }

  // Drops the mask and its history; `message` says why (or the default status).
  function removeMask(form, message, tone) {
    const state = stateFor(form);
    resetHistory(state);
    state.source = null;
    setMaskFile(form, null);
    setStatus(form, message || state.defaultStatus, { tone: tone });
  }

  function loadImage(img, src) {
    return new Promise(function (resolve, reject) {
      img.onload = function () { resolve(img); };
      img.onerror = function () { reject(new Error("The image could not be loaded.")); };
      if (img.getAttribute("src") === src && img.complete && img.naturalWidth) {
        resolve(img);
        return;
      }
      img.src = src;
    });
  }

  // ---------------------------------------------------------------- loading the editor

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = src;
      script.async = false; // both download at once and run in order: the canvas, then the editor
      script.onload = function () { resolve(); };
      script.onerror = function () {
        script.remove(); // so that another click tries again
        reject(new Error("Could not load " + src));
      };
      document.head.appendChild(script);
    });
  }

  // The editor, loaded once; the same promise to every caller while its scripts load.
  function load() {
    if (editor) return Promise.resolve(editor);
    if (loading) return loading;
    const row = document.querySelector("#generate-form [data-mask-row]") || document.querySelector("[data-mask-row]");
    const sources = [];
    if (!window.PlaygroundMaskCanvas) sources.push(row && row.dataset.maskCanvasSrc);
    sources.push(row && row.dataset.maskEditorSrc);
    if (sources.some(function (src) { return !src; })) {
      return Promise.reject(new Error("The page does not say where the mask editor is."));
    }
    loading = Promise.all(sources.map(loadScript)).then(function () {
      if (!editor) throw new Error("The mask editor did not start.");
      return editor;
    });
    loading.catch(function () { loading = null; });
    return loading;
  }

  // A failed load says so in the status line; the next successful one puts back what it said.
  const LOAD_FAILED = "The mask editor could not be loaded. Check the connection and try again.";
  let replacedStatus = null; // {status, nodes, tone}

  function showLoadFailed(form) {
    const status = form.querySelector("[data-mask-status]");
    if (status && !replacedStatus) {
      replacedStatus = {
        status: status,
        nodes: Array.from(status.childNodes).map(function (node) { return node.cloneNode(true); }),
        tone: status.dataset.tone,
      };
    }
    setStatus(form, LOAD_FAILED, { tone: "warn" });
  }

  function restoreStatus() {
    const saved = replacedStatus;
    replacedStatus = null;
    if (!saved || saved.status.textContent !== LOAD_FAILED) return; // something newer is shown
    saved.status.replaceChildren.apply(saved.status, saved.nodes);
    if (saved.tone) saved.status.dataset.tone = saved.tone;
    else delete saved.status.dataset.tone;
  }

  function openEditor(opener) {
    const form = currentForm();
    const refs = window.PlaygroundReferences;
    if (!form || !(refs && refs.first())) {
      if (form) setStatus(form, "Add a reference image first: a mask applies to the first one.", { tone: "warn" });
      return Promise.resolve(false);
    }
    if (editor) return editor.open();
    if (opener) opener.setAttribute("aria-busy", "true");
    return load().then(function (loaded) {
      restoreStatus();
      return loaded.open();
    }, function () {
      showLoadFailed(form);
      return false;
    }).finally(function () {
      if (opener) opener.removeAttribute("aria-busy");
    });
  }

  // ---------------------------------------------------------------- the form's controls

  document.addEventListener("click", function (event) {
    const target = event.target.closest && event.target.closest("[data-open-mask-editor], [data-clear-mask]");
    if (!target) return;
    event.preventDefault();
    if (target.matches("[data-open-mask-editor]")) {
      openEditor(target);
    } else {
      const form = target.closest("form") || currentForm();
      if (form) removeMask(form);
      const next = form && form.querySelector("[data-open-mask-editor]");
      if (next) next.focus();
    }
  });

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (!field.matches || !field.matches("[data-mask-input]")) return;
    const form = field.closest("form") || currentForm();
    if (!form) return;
    const state = stateFor(form);
    resetHistory(state);
    const file = field.files && field.files[0];
    if (!file) {
      state.source = null;
      setStatus(form, state.defaultStatus);
      return;
    }
    state.source = "uploaded";
    const message = "Mask uploaded: " + file.name +
      " (used as is if it has transparency; otherwise white marks the area to change)";
    setStatus(form, message);
    checkUploadedSize(form, file, message);
  });

  // A mask must match the first image's size: say so at once rather than after a submit.
  function checkUploadedSize(form, file, message) {
    const first = window.PlaygroundReferences && window.PlaygroundReferences.first();
    if (!first || !window.createImageBitmap) return;
    const expected = first.width && first.height
      ? Promise.resolve({ width: first.width, height: first.height })
      : loadImage(new Image(), first.src).then(function (img) { return { width: img.naturalWidth, height: img.naturalHeight }; });
    Promise.all([createImageBitmap(file), expected]).then(function (results) {
      const bitmap = results[0];
      const size = results[1];
      const field = maskInput(form);
      if (!field || field.files[0] !== file) return;
      if (bitmap.width !== size.width || bitmap.height !== size.height) {
        setStatus(form, message + ". Its size, " + bitmap.width + "×" + bitmap.height +
          ", differs from the first image's " + size.width + "×" + size.height + ".", { tone: "warn" });
      }
      if (bitmap.close) bitmap.close();
    }).catch(function () {
      const field = maskInput(form);
      if (field && field.files[0] === file) setStatus(form, file.name + " could not be read as an image.", { tone: "warn" });
    });
  }

  document.addEventListener("references:changed", function (event) {
    const form = event.target;
    const detail = event.detail || {};
    if (detail.initial || !states.has(form)) {
      if (form && detail.first) stateFor(form).key = detail.first.key;
      return;
    }
    const state = stateFor(form);
    if (!detail.count) {
      if (state.source || state.ops.length) removeMask(form);
      state.key = null;
      return;
    }
    if (!detail.firstChanged) return;
    state.key = detail.first ? detail.first.key : null;
    state.size = null;
    if (state.source === "painted") {
      removeMask(form, "The first image changed, so the mask was removed.", "warn");
    } else if (state.source === "uploaded") {
      resetHistory(state);
      const field = maskInput(form);
      const name = field && field.files[0] ? field.files[0].name : "the mask";
      setStatus(form, "Mask uploaded: " + name + ". The first image changed: check that the mask still fits it.", { tone: "warn" });
    } else {
      resetHistory(state); // strokes never applied belong to the old first image
    }
  });

  // What mask-editor.js needs from the row; it hands its own functions back through register.
  window.PlaygroundMaskForm = {
    currentForm: currentForm,
    stateFor: stateFor,
    hasState: hasState,
    resetHistory: resetHistory,
    maskInput: maskInput,
    setMaskFile: setMaskFile,
    setStatus: setStatus,
    loadImage: loadImage,
    register: function (loaded) { editor = loaded; },
  };

  window.PlaygroundMaskEditor = {
    load: load,
    isLoaded: function () { return !!editor; },
    open: function () { return openEditor(null); },
    close: function () { if (editor) editor.close(); },
    apply: function () { return editor ? editor.apply() : Promise.resolve(false); },
    hasMask: function () {
      const form = currentForm();
      const field = form && maskInput(form);
      return !!(field && field.files && field.files.length);
    },
    // Only the editor paints: before it has loaded, nothing is painted.
    paintedFraction: function () { return editor ? editor.paintedFraction() : 0; },
    isOpen: function () { return !!(editor && editor.isOpen()); },
  };
})();
