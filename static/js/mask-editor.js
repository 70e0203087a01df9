// Mask editor: a full-screen dialog to paint, over the FIRST reference image, the area an
// edit may change. The mask lives in a canvas at exactly the image's natural size; the
// history is a list of operations (strokes, clear, invert) replayed for undo and redo.
// "Apply" exports a PNG that is transparent where painted and opaque black elsewhere (the
// Images API's convention) into the form's `mask` file input.
// Not on the page at first: mask-loader.js loads mask-canvas.js and this file when a person
// first clicks "Paint a mask", and owns the mask row (status, upload, first image changed).
(function () {
  "use strict";

  // Runs after mask-loader.js and mask-canvas.js; if either failed to load, the loader says so.
  if (!window.PlaygroundMaskForm || !window.PlaygroundMaskCanvas) return;

  const IS_MAC = /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent || "");
  const MOD = IS_MAC ? "⌘" : "Ctrl";
  const MAX_SCALE = 32;
  const REDUCED_MOTION = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  let ui = null; // the dialog, built on first use
  let session = null; // the open editor: {form, state, width, height}
  const view = { scale: 1, tx: 0, ty: 0, fitted: true };
  const input = { tool: "brush", spaceDown: false, showOriginal: false, stroke: null, pan: null, touches: new Map(), pinch: null, hover: null };

  // The mask row's state and controls, shared with the always-loaded mask-loader.js.
  const {
    currentForm,
    stateFor,
    hasState,
    resetHistory,
    maskInput,
    setMaskFile,
    setStatus,
    loadImage,
  } = window.PlaygroundMaskForm;

  // Drawing, measuring and exporting the mask: mask-canvas.js.
  const {
    point,
    prepare,
    drawDot,
    drawSegment,
    drawTail,
    drawOp,
    importMask,
    replay,
    approxFraction,
    exactFraction,
    percent,
    exportMask,
    previewUrl,
  } = window.PlaygroundMaskCanvas;

  // ---------------------------------------------------------------- the dialog

  const ICONS = {
    brush: '<path d="M18.37 2.63a2.12 2.12 0 0 1 3 3L14 13l-3-3 7.37-7.37Z"/><path d="M10 11c-2.5 0-4 1.5-4 4 0 1.5-1 3-3 3.5 1.5 1.5 3.5 2.5 6 2.5 3.5 0 5-2.5 5-5.5"/>',
    eraser: '<path d="m7 21-4.3-4.3a1 1 0 0 1 0-1.4l10-10a1 1 0 0 1 1.4 0l5.6 5.6a1 1 0 0 1 0 1.4L11.3 21"/><path d="M22 21H7"/><path d="m5 11 9 9"/>',
    hand: '<path d="M18 11V6a2 2 0 0 0-4 0v5"/><path d="M14 10V4a2 2 0 0 0-4 0v6"/><path d="M10 10.5V6a2 2 0 0 0-4 0v8"/><path d="M18 8a2 2 0 1 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.86-5.99-2.34l-3.6-3.6a2 2 0 0 1 2.83-2.82L7 15"/>',
    undo: '<path d="M9 14 4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11"/>',
    redo: '<path d="m15 14 5-5-5-5"/><path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13"/>',
    invert: '<circle cx="12" cy="12" r="9"/><path d="M12 3a9 9 0 0 1 0 18Z" fill="currentColor"/>',
    clear: '<path d="M3 6h18"/><path d="M8 6V4h8v2"/><path d="m6 6 1 14h10l1-14"/>',
    zoomOut: '<circle cx="11" cy="11" r="7"/><path d="m21 21-5-5"/><path d="M8 11h6"/>',
    zoomIn: '<circle cx="11" cy="11" r="7"/><path d="m21 21-5-5"/><path d="M8 11h6"/><path d="M11 8v6"/>',
    fit: '<path d="M4 9V4h5"/><path d="M20 9V4h-5"/><path d="M4 15v5h5"/><path d="M20 15v5h-5"/>',
    eye: '<path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12Z"/><circle cx="12" cy="12" r="3"/>',
  };
  function icon(name) {
    return '<svg class="me-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' + ICONS[name] + "</svg>";
  }
  function button(attrs, iconName, label, key, extraClass) {
    return '<button type="button" class="me-btn' + (extraClass ? " " + extraClass : "") + '" ' + attrs +
      ' title="' + label + (key ? " (" + key + ")" : "") + '" aria-label="' + label + '">' +
      icon(iconName) + '<span class="me-label" aria-hidden="true">' + label + "</span></button>";
  }

  const SHORTCUTS = [
    ["B", "Brush"], ["E", "Eraser"], ["X", "Swap brush and eraser"], ["H", "Pan tool"],
    ["[  ]", "Smaller / larger brush"], ["Space + drag", "Pan (or middle mouse, two fingers)"],
    ["Wheel, pinch", "Zoom at the pointer"], ["+  −", "Zoom in / out"], ["0 or F", "Fit to screen"], ["1", "Actual pixels (100 %)"],
    [MOD + " Z", "Undo"], [MOD + " Shift Z, " + (IS_MAC ? "⌘ Y" : "Ctrl Y"), "Redo"],
    ["I", "Invert the mask"], ["Delete", "Clear the mask"], ["O", "Show the original"],
    ["Shift + click", "Straight line from the last point"], ["Right-drag", "Erase with a mouse"],
    ["Enter", "Apply"], ["Esc", "Cancel"], ["?", "This list"],
  ];

  function buildUi() {
    const dialog = document.createElement("dialog");
    dialog.className = "mask-editor";
    dialog.setAttribute("aria-labelledby", "mask-editor-title");
    dialog.innerHTML =
      '<div class="me-frame">' +
      '<header class="me-top">' +
      '<div class="me-title"><strong id="mask-editor-title">Paint the area to change</strong>' +
      '<span class="me-meta" data-me-meta></span></div>' +
      '<div class="me-actions">' +
      '<button type="button" class="me-btn me-icon-only" data-action="help" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" aria-expanded="false"><span aria-hidden="true">?</span></button>' +
      '<button type="button" class="me-btn me-ghost" data-action="cancel" title="Close without changing the mask (Esc)">Cancel</button>' +
      '<button type="button" class="me-btn me-primary" data-action="apply" title="Use this mask (Enter)">Apply mask</button>' +
      "</div></header>" +
      '<div class="me-tools" role="toolbar" aria-label="Mask tools">' +
      '<div class="me-group" role="group" aria-label="Tool">' +
      button('data-tool="brush" aria-pressed="true"', "brush", "Brush", "B") +
      button('data-tool="eraser" aria-pressed="false"', "eraser", "Eraser", "E") +
      button('data-tool="hand" aria-pressed="false"', "hand", "Pan", "H") +
      "</div>" +
      '<div class="me-group me-size" role="group" aria-label="Brush size">' +
      '<label for="mask-editor-size">Size</label>' +
      '<span class="me-size-dot" data-me-size-dot aria-hidden="true"></span>' +
      '<input type="range" id="mask-editor-size" min="0" max="1000" step="1" data-me-size title="Brush size ([ and ])">' +
      '<output for="mask-editor-size" data-me-size-out>0 px</output>' +
      "</div>" +
      '<div class="me-group" role="group" aria-label="History">' +
      button('data-action="undo"', "undo", "Undo", MOD + "+Z", "me-icon-only") +
      button('data-action="redo"', "redo", "Redo", MOD + "+Shift+Z", "me-icon-only") +
      "</div>" +
      '<div class="me-group" role="group" aria-label="Whole mask">' +
      button('data-action="invert"', "invert", "Invert", "I") +
      button('data-action="clear"', "clear", "Clear", "Delete") +
      "</div>" +
      '<div class="me-group" role="group" aria-label="View">' +
      button('data-action="zoom-out"', "zoomOut", "Zoom out", "−", "me-icon-only") +
      '<button type="button" class="me-btn me-zoom" data-action="zoom-toggle" title="Toggle fit / 100 % (0, 1)" data-me-zoom>100 %</button>' +
      button('data-action="zoom-in"', "zoomIn", "Zoom in", "+", "me-icon-only") +
      button('data-action="fit"', "fit", "Fit", "0") +
      button('data-action="original" aria-pressed="false"', "eye", "Original", "O") +
      "</div>" +
      "</div>" +
      '<div class="me-stage" data-me-stage tabindex="0" aria-label="Image: paint over the area that should change">' +
      '<div class="me-world" data-me-world><img class="me-image" data-me-image alt="" draggable="false"></div>' +
      '<div class="me-cursor" data-me-cursor hidden></div>' +
      '<div class="me-loading" data-me-loading role="status">Loading the image…</div>' +
      '<div class="me-restore" data-me-restore hidden><span data-me-restore-text></span> ' +
      '<button type="button" class="me-btn me-ghost" data-action="restore">Bring them back</button>' +
      '<button type="button" class="me-btn me-icon-only" data-action="dismiss-restore" aria-label="Dismiss">×</button></div>' +
      '<div class="me-help" data-me-help hidden><h2>Keyboard and gestures</h2><dl>' +
      SHORTCUTS.map(function (s) { return "<dt><kbd>" + s[0] + "</kbd></dt><dd>" + s[1] + "</dd>"; }).join("") +
      "</dl></div>" +
      "</div>" +
      '<footer class="me-status">' +
      '<span class="me-coverage" data-me-coverage aria-live="polite"></span>' +
      '<span class="me-hints"><kbd>B</kbd> brush <kbd>E</kbd> eraser <kbd>[</kbd><kbd>]</kbd> size ' +
      "<kbd>Space</kbd> pan <kbd>" + MOD + "</kbd><kbd>Z</kbd> undo <kbd>?</kbd> all keys</span>" +
      "</footer>" +
      "</div>";
    document.body.appendChild(dialog);
    const q = function (selector) { return dialog.querySelector(selector); };
    ui = {
      dialog: dialog,
      stage: q("[data-me-stage]"),
      world: q("[data-me-world]"),
      image: q("[data-me-image]"),
      cursor: q("[data-me-cursor]"),
      loading: q("[data-me-loading]"),
      restore: q("[data-me-restore]"),
      restoreText: q("[data-me-restore-text]"),
      help: q("[data-me-help]"),
      helpButton: q("[data-action=help]"),
      size: q("[data-me-size]"),
      sizeOut: q("[data-me-size-out]"),
      sizeDot: q("[data-me-size-dot]"),
      zoom: q("[data-me-zoom]"),
      meta: q("[data-me-meta]"),
      coverage: q("[data-me-coverage]"),
      apply: q("[data-action=apply]"),
      undo: q("[data-action=undo]"),
      redo: q("[data-action=redo]"),
      clear: q("[data-action=clear]"),
      invert: q("[data-action=invert]"),
      original: q("[data-action=original]"),
    };
    bindUi();
  }

  // ---------------------------------------------------------------- view

  function stageRect() {
    return ui.stage.getBoundingClientRect();
  }
  function fitScale() {
    const r = stageRect();
    const pad = r.width < 600 ? 12 : 40;
    return Math.max(0.001, Math.min((r.width - 2 * pad) / session.width, (r.height - 2 * pad) / session.height));
  }
  function minScale() {
    return Math.min(fitScale() / 4, 0.05);
  }
  function fit() {
    if (!session || !session.width) return;
    const r = stageRect();
    view.scale = fitScale();
    view.tx = (r.width - session.width * view.scale) / 2;
    view.ty = (r.height - session.height * view.scale) / 2;
    view.fitted = true;
    renderView();
  }
  function zoomAt(scale, cx, cy) {
    if (!session || !session.width) return;
    const r = stageRect();
    if (cx == null) { cx = r.width / 2; cy = r.height / 2; }
    const next = Math.max(minScale(), Math.min(MAX_SCALE, scale));
    const k = next / view.scale;
    view.tx = cx - (cx - view.tx) * k;
    view.ty = cy - (cy - view.ty) * k;
    view.scale = next;
    view.fitted = false;
    clampPan();
    renderView();
  }
  function clampPan() {
    const r = stageRect();
    const w = session.width * view.scale;
    const h = session.height * view.scale;
    const keep = Math.min(80, w / 2, h / 2); // always leave a piece of the image on screen
    view.tx = Math.min(r.width - keep, Math.max(keep - w, view.tx));
    view.ty = Math.min(r.height - keep, Math.max(keep - h, view.ty));
  }
  function renderView() {
    ui.world.style.transform = "translate(" + view.tx + "px," + view.ty + "px) scale(" + view.scale + ")";
    ui.world.classList.toggle("is-pixelated", view.scale >= 2);
    ui.zoom.textContent = Math.round(view.scale * 100) + " %";
    ui.zoom.setAttribute("aria-label", "Zoom " + Math.round(view.scale * 100) + " percent: toggle fit and 100 percent");
    renderCursor();
  }

  // ---------------------------------------------------------------- brush size

  function sizeRange() {
    const longest = session ? Math.max(session.width, session.height) : 1024;
    return { min: 1, max: Math.max(64, Math.round(longest / 3)) };
  }
  function sizeFromSlider(value) {
    const r = sizeRange();
    return Math.max(r.min, Math.round(r.min * Math.pow(r.max / r.min, value / 1000)));
  }
  function sliderFromSize(size) {
    const r = sizeRange();
    return Math.round((1000 * Math.log(size / r.min)) / Math.log(r.max / r.min));
  }
  function setSize(size, fromSlider) {
    const state = session.state;
    const r = sizeRange();
    state.size = Math.max(r.min, Math.min(r.max, Math.round(size)));
    if (!fromSlider) ui.size.value = String(sliderFromSize(state.size));
    ui.sizeOut.textContent = state.size + " px";
    const dot = Math.max(3, Math.min(22, 3 + Math.sqrt(state.size)));
    ui.sizeDot.style.width = ui.sizeDot.style.height = dot + "px";
    renderCursor();
  }
  function stepSize(direction) {
    const size = session.state.size;
    const next = direction > 0 ? Math.max(size + 1, size * 1.2) : Math.min(size - 1, size / 1.2);
    setSize(next);
    if (!input.hover) {
      // No pointer over the image (keyboard): show the size in the middle for a moment.
      const r = stageRect();
      flashCursor(r.width / 2, r.height / 2);
    }
  }
  let flashTimer = 0;
  function flashCursor(x, y) {
    input.hover = { x: x, y: y, flash: true };
    renderCursor();
    window.clearTimeout(flashTimer);
    flashTimer = window.setTimeout(function () {
      if (input.hover && input.hover.flash) {
        input.hover = null;
        renderCursor();
      }
    }, 700);
  }

  function renderCursor() {
    if (!ui || !session) return;
    const hover = input.hover;
    const panning = input.tool === "hand" || input.spaceDown || input.pan || input.pinch;
    ui.stage.classList.toggle("is-pan", !!panning);
    ui.stage.classList.toggle("is-panning", !!(input.pan || input.pinch));
    if (!hover || panning || !session.width) {
      ui.cursor.hidden = true;
      ui.stage.classList.remove("hide-pointer");
      return;
    }
    const diameter = session.state.size * view.scale;
    const erasing = input.tool === "eraser" || (input.stroke && input.stroke.op.mode === "erase");
    ui.cursor.hidden = false;
    ui.cursor.classList.toggle("is-eraser", !!erasing);
    ui.cursor.classList.toggle("is-tiny", diameter < 6);
    const d = Math.max(diameter, 6);
    ui.cursor.style.width = ui.cursor.style.height = d + "px";
    ui.cursor.style.transform = "translate(" + (hover.x - d / 2) + "px," + (hover.y - d / 2) + "px)";
    ui.stage.classList.toggle("hide-pointer", diameter >= 6);
  }

  // ---------------------------------------------------------------- tools and history

  function setTool(tool) {
    input.tool = tool;
    ui.dialog.querySelectorAll("[data-tool]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
    });
    renderCursor();
  }

  // Records an operation; `draw` also applies it (strokes are drawn while they happen).
  function pushOp(op, draw) {
    const state = session.state;
    state.ops.push(op);
    state.redo = [];
    if (state.discarded) dismissRestore();
    if (draw) drawOp(state.canvas.getContext("2d"), op, state.width, state.height);
    afterChange();
  }
  function undo() {
    const state = session.state;
    if (input.stroke || !state.ops.length) return;
    state.redo.push(state.ops.pop());
    replay(state);
    afterChange();
  }
  function redo() {
    const state = session.state;
    if (input.stroke || !state.redo.length) return;
    const op = state.redo.pop();
    state.ops.push(op);
    drawOp(state.canvas.getContext("2d"), op, state.width, state.height);
    afterChange();
  }
  function clearMask() {
    if (input.stroke || !session.state.ops.length || approxFraction(session.state) === 0) return;
    pushOp({ type: "clear" }, true);
  }
  function invertMask() {
    if (input.stroke) return;
    pushOp({ type: "invert" }, true);
  }

  // Disabling (or hiding) the focused control drops focus to <body>: hand it to the first
  // usable neighbour first, else to the image, so focus stays in the dialog.
  function keepFocus(control, neighbours) {
    if (!control.contains(document.activeElement)) return;
    const next = neighbours.filter(function (b) { return b && !b.disabled && !b.closest("[hidden]"); })[0];
    (next || ui.stage).focus({ preventScroll: true });
  }
  function setDisabled(button, disabled, neighbours) {
    if (disabled && !button.disabled) keepFocus(button, neighbours || []);
    button.disabled = disabled;
  }

  let statsFrame = 0;
  function afterChange() {
    const state = session.state;
    // Enable before disabling, so a button losing focus can hand it to the other one.
    if (state.ops.length) ui.undo.disabled = false;
    if (state.redo.length) ui.redo.disabled = false;
    setDisabled(ui.undo, !state.ops.length, [ui.redo]);
    setDisabled(ui.redo, !state.redo.length, [ui.undo]);
    window.cancelAnimationFrame(statsFrame);
    statsFrame = window.requestAnimationFrame(function () {
      if (!session) return;
      const fraction = approxFraction(session.state);
      setDisabled(ui.clear, fraction === 0, [ui.undo, ui.invert]);
      const note = session.note && sameOps(session.state.ops, session.state.committed) ? session.note + " " : "";
      ui.coverage.textContent = note + (fraction === 0
        ? (session.state.ops.length ? "Nothing painted: applying removes the mask." : "Paint over what should change; the rest stays as it is.")
        : percent(fraction) + " of the image will change");
      ui.coverage.classList.toggle("is-empty", fraction === 0);
    });
  }

  // ---------------------------------------------------------------- pointer input

  function stagePoint(event) {
    const r = stageRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }
  function imagePoint(event) {
    const p = stagePoint(event);
    return { x: (p.x - view.tx) / view.scale, y: (p.y - view.ty) / view.scale };
  }
  function pressureOf(event, op) {
    if (!op.pressure) return 1;
    return event.pressure > 0 ? event.pressure : 0.5;
  }

  function beginStroke(event, erase) {
    const state = session.state;
    const pen = event.pointerType === "pen";
    const op = {
      type: "stroke",
      mode: erase ? "erase" : "paint",
      size: state.size,
      pressure: pen && (event.pressure > 0 && event.pressure !== 0.5),
      points: [],
    };
    const at = imagePoint(event);
    const ctx = state.canvas.getContext("2d");
    if (event.shiftKey && state.lastPoint) {
      op.points.push(state.lastPoint.x, state.lastPoint.y, 1);
    }
    op.points.push(at.x, at.y, pressureOf(event, op));
    ctx.save();
    prepare(ctx, op);
    drawDot(ctx, op);
    if (op.points.length > 3) drawSegment(ctx, op, 1);
    ctx.restore();
    input.stroke = { op: op, pointerId: event.pointerId, pointerType: event.pointerType };
    renderCursor();
  }
  function extendStroke(event) {
    const stroke = input.stroke;
    const op = stroke.op;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const list = events.length ? events : [event];
    const ctx = session.state.canvas.getContext("2d");
    ctx.save();
    prepare(ctx, op);
    const minStep = Math.max(0.35, op.size * 0.04);
    list.forEach(function (e) {
      const at = imagePoint(e);
      const n = op.points.length / 3;
      const last = point(op, n - 1);
      if (Math.hypot(at.x - last[0], at.y - last[1]) < minStep) return;
      op.points.push(at.x, at.y, pressureOf(e, op));
      drawSegment(ctx, op, n);
    });
    ctx.restore();
  }
  function endStroke() {
    const stroke = input.stroke;
    if (!stroke) return;
    input.stroke = null;
    const op = stroke.op;
    const ctx = session.state.canvas.getContext("2d");
    ctx.save();
    prepare(ctx, op);
    drawTail(ctx, op);
    ctx.restore();
    const last = point(op, op.points.length / 3 - 1);
    session.state.lastPoint = { x: last[0], y: last[1] };
    pushOp(op);
    renderCursor();
  }
  function abortStroke() {
    if (!input.stroke) return;
    input.stroke = null;
    replay(session.state);
    renderCursor();
  }

  function onPointerDown(event) {
    if (!session || !session.width || ui.loading.hidden === false) return;
    ui.stage.focus({ preventScroll: true });
    if (!ui.help.hidden) toggleHelp(false);
    const p = stagePoint(event);
    if (event.pointerType === "touch") {
      input.touches.set(event.pointerId, p);
      if (input.touches.size === 2) {
        // A second finger: this is a pinch or a two-finger pan, not a stroke.
        if (input.stroke && input.stroke.pointerType === "touch") abortStroke();
        input.pan = null;
        startPinch();
        capture(event);
        return;
      }
      if (input.touches.size > 2) return;
    }
    const middle = event.button === 1;
    if (middle || input.spaceDown || input.tool === "hand") {
      event.preventDefault();
      input.pan = { pointerId: event.pointerId, x: p.x, y: p.y, tx: view.tx, ty: view.ty };
      capture(event);
      renderCursor();
      return;
    }
    // Left button, pen tip or touch draws; right button or a pen's eraser end erases.
    if (event.button !== 0 && event.button !== 2 && event.button !== 5) return;
    if (input.stroke) return;
    event.preventDefault();
    const erase = input.tool === "eraser" || event.button === 2 || event.button === 5 || (event.buttons & 32) !== 0;
    input.hover = event.pointerType === "touch" ? null : p;
    capture(event);
    beginStroke(event, erase);
  }
  function capture(event) {
    try { ui.stage.setPointerCapture(event.pointerId); } catch (error) { /* pointer already gone */ }
  }
  function startPinch() {
    const pts = Array.from(input.touches.values());
    input.pinch = {
      distance: Math.max(1, Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y)),
      mid: { x: (pts[0].x + pts[1].x) / 2, y: (pts[0].y + pts[1].y) / 2 },
      scale: view.scale,
      tx: view.tx,
      ty: view.ty,
    };
    renderCursor();
  }
  function onPointerMove(event) {
    if (!session || !session.width) return;
    const p = stagePoint(event);
    if (event.pointerType === "touch" && input.touches.has(event.pointerId)) {
      input.touches.set(event.pointerId, p);
      if (input.pinch && input.touches.size >= 2) {
        const pts = Array.from(input.touches.values());
        const g = input.pinch;
        const distance = Math.max(1, Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y));
        const mid = { x: (pts[0].x + pts[1].x) / 2, y: (pts[0].y + pts[1].y) / 2 };
        const scale = Math.max(minScale(), Math.min(MAX_SCALE, (g.scale * distance) / g.distance));
        const ix = (g.mid.x - g.tx) / g.scale;
        const iy = (g.mid.y - g.ty) / g.scale;
        view.scale = scale;
        view.tx = mid.x - ix * scale;
        view.ty = mid.y - iy * scale;
        view.fitted = false;
        clampPan();
        renderView();
        return;
      }
    } else if (event.pointerType !== "touch") {
      input.hover = p;
    }
    if (input.pan && event.pointerId === input.pan.pointerId) {
      view.tx = input.pan.tx + (p.x - input.pan.x);
      view.ty = input.pan.ty + (p.y - input.pan.y);
      view.fitted = false;
      clampPan();
      renderView();
      return;
    }
    if (input.stroke && event.pointerId === input.stroke.pointerId) extendStroke(event);
    renderCursor();
  }
  function onPointerUp(event) {
    if (event.pointerType === "touch") {
      input.touches.delete(event.pointerId);
      if (input.pinch && input.touches.size < 2) {
        input.pinch = null;
        renderCursor();
        return;
      }
    }
    if (input.pan && event.pointerId === input.pan.pointerId) {
      input.pan = null;
      renderCursor();
      return;
    }
    if (input.stroke && event.pointerId === input.stroke.pointerId) {
      if (event.type === "pointercancel") abortStroke();
      else endStroke();
    }
  }

  // ---------------------------------------------------------------- keyboard

  // Fields where keys type text (none in the dialog today): only Escape is ours there.
  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !/^(range|button|submit|reset|checkbox|radio|file|color|image)$/.test(el.type);
  }

  // Listens on the document (capture), not the dialog: focus can end up on <body> (a focused
  // control removed, a click on a non-focusable part) and the keys must still work.
  function onKeyDown(event) {
    if (!session || !ui.dialog.open) return;
    if (handleKey(event)) event.stopPropagation(); // the editor is modal: its keys are its own
  }
  function handleKey(event) {
    const target = event.target;
    const key = event.key;
    if (!key) return false; // autofill and IME can send keydowns without a key
    const lower = key.length === 1 ? key.toLowerCase() : key;
    const mod = event.ctrlKey || event.metaKey;
    if (key === "Escape") {
      event.preventDefault();
      if (!ui.help.hidden) toggleHelp(false);
      else if (input.stroke) abortStroke();
      else if (input.pan) input.pan = null;
      else cancel();
      return true;
    }
    if (isTextField(target)) return false;
    if (mod && !event.altKey) {
      let handled = true;
      if (lower === "z") {
        event.preventDefault();
        if (event.shiftKey) redo();
        else undo();
      } else if (lower === "y") {
        event.preventDefault();
        redo();
      } else if (key === "Enter") {
        event.preventDefault();
        apply();
      } else if (key === "0") {
        event.preventDefault();
        fit();
      } else if (key === "=" || key === "+" || key === "-") {
        event.preventDefault();
        zoomAt(view.scale * (key === "-" ? 1 / 1.25 : 1.25));
      } else handled = false;
      return handled;
    }
    if (event.altKey) return false;
    const onRange = target === ui.size;
    const onButton = target.tagName === "BUTTON";
    if (key === " ") {
      if (onButton) return false; // Space presses the focused button
      event.preventDefault();
      if (!event.repeat) {
        input.spaceDown = true;
        renderCursor();
      }
      return true;
    }
    if (onRange && /^(Arrow|Page|Home|End)/.test(key)) return false;
    const code = event.code;
    let handled = true;
    if (lower === "b") setTool("brush");
    else if (lower === "e") setTool("eraser");
    else if (lower === "h") setTool("hand");
    else if (lower === "x") setTool(input.tool === "eraser" ? "brush" : "eraser");
    else if (key === "[" || (code === "BracketLeft" && key !== "{")) stepSize(-1);
    else if (key === "]" || (code === "BracketRight" && key !== "}")) stepSize(1);
    else if (lower === "i") invertMask();
    else if (lower === "o") toggleOriginal();
    else if (key === "Delete" || key === "Backspace") clearMask();
    else if (key === "0" || lower === "f") fit();
    else if (key === "1") zoomAt(1);
    else if (key === "+" || key === "=") zoomAt(view.scale * 1.25, hoverX(), hoverY());
    else if (key === "-" || key === "_") zoomAt(view.scale / 1.25, hoverX(), hoverY());
    else if (key === "?") toggleHelp();
    else if (key === "Enter" && !onButton) apply();
    else handled = false;
    if (handled) event.preventDefault();
    return handled;
  }
  function hoverX() { return input.hover ? input.hover.x : null; }
  function hoverY() { return input.hover ? input.hover.y : null; }
  function onKeyUp(event) {
    if (session && event.key === " " && input.spaceDown) {
      event.preventDefault();
      input.spaceDown = false;
      renderCursor();
    }
  }

  function toggleOriginal(force) {
    input.showOriginal = typeof force === "boolean" ? force : !input.showOriginal;
    ui.world.classList.toggle("show-original", input.showOriginal);
    ui.original.setAttribute("aria-pressed", String(input.showOriginal));
  }
  function toggleHelp(force) {
    const show = typeof force === "boolean" ? force : ui.help.hidden;
    ui.help.hidden = !show;
    ui.helpButton.setAttribute("aria-expanded", String(show));
  }
  function dismissRestore() {
    if (session) session.state.discarded = null;
    keepFocus(ui.restore, []);
    ui.restore.hidden = true;
  }

  // ---------------------------------------------------------------- binding

  function bindUi() {
    ui.stage.addEventListener("pointerdown", onPointerDown);
    ui.stage.addEventListener("pointermove", onPointerMove);
    ui.stage.addEventListener("pointerup", onPointerUp);
    ui.stage.addEventListener("pointercancel", onPointerUp);
    ui.stage.addEventListener("lostpointercapture", function (event) {
      if (input.stroke && event.pointerId === input.stroke.pointerId) endStroke();
      if (input.pan && event.pointerId === input.pan.pointerId) input.pan = null;
    });
    ui.stage.addEventListener("pointerleave", function (event) {
      if (event.pointerType !== "touch" && !input.stroke) {
        input.hover = null;
        renderCursor();
      }
    });
    ui.stage.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    ui.stage.addEventListener("auxclick", function (event) { event.preventDefault(); });
    ui.stage.addEventListener("wheel", function (event) {
      if (!session || !session.width) return;
      event.preventDefault();
      let delta = event.deltaY;
      if (event.deltaMode === 1) delta *= 16;
      else if (event.deltaMode === 2) delta *= 400;
      // Trackpad pinches arrive as ctrl+wheel with small deltas: zoom faster for them.
      const factor = Math.exp(-delta * (event.ctrlKey ? 0.01 : 0.0015));
      const p = stagePoint(event);
      zoomAt(view.scale * factor, p.x, p.y);
    }, { passive: false });

    document.addEventListener("keydown", onKeyDown, true);
    document.addEventListener("keyup", onKeyUp, true);
    ui.dialog.addEventListener("cancel", function (event) {
      event.preventDefault(); // Escape is handled in onKeyDown (a stroke may be in progress)
    });
    ui.dialog.addEventListener("close", function () {
      if (session && !ui.dialog.open) finishSession(); // open again: a newer session
    });
    window.addEventListener("blur", function () {
      input.spaceDown = false;
      if (input.stroke) endStroke();
    });

    ui.size.addEventListener("input", function () {
      setSize(sizeFromSlider(Number(ui.size.value)), true);
      const r = stageRect();
      flashCursor(r.width / 2, r.height / 2);
    });
    ui.dialog.addEventListener("click", function (event) {
      const target = event.target.closest("button");
      if (!target || !session) return;
      if (target.dataset.tool) {
        setTool(target.dataset.tool);
        return;
      }
      switch (target.dataset.action) {
        case "apply": apply(); break;
        case "cancel": cancel(); break;
        case "undo": undo(); break;
        case "redo": redo(); break;
        case "clear": clearMask(); break;
        case "invert": invertMask(); break;
        case "fit": fit(); break;
        case "zoom-in": zoomAt(view.scale * 1.25); break;
        case "zoom-out": zoomAt(view.scale / 1.25); break;
        case "zoom-toggle":
          if (Math.abs(view.scale - 1) < 0.001) fit();
          else zoomAt(1);
          break;
        case "original": toggleOriginal(); break;
        case "help": toggleHelp(); break;
        case "restore": {
          const state = session.state;
          if (state.discarded) {
            state.ops = state.discarded.ops;
            state.redo = state.discarded.redo;
            replay(state);
            afterChange();
          }
          dismissRestore();
          break;
        }
        case "dismiss-restore": dismissRestore(); break;
      }
    });

    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (!session || !session.width) return;
        if (view.fitted) fit();
        else {
          clampPan();
          renderView();
        }
      }).observe(ui.stage);
    }
  }

  function open() {
    const form = currentForm();
    const refs = window.PlaygroundReferences;
    const first = refs && refs.first();
    if (!form || !first) {
      if (form) setStatus(form, "Add a reference image first: a mask applies to the first one.", { tone: "warn" });
      return Promise.resolve(false);
    }
    if (session) return Promise.resolve(true);
    if (!ui) buildUi();
    const state = stateFor(form);
    if (state.key !== first.key) {
      resetHistory(state);
      state.key = first.key;
      state.size = null; // a new default suited to the new image
    }
    session = { form: form, state: state, first: first, width: 0, height: 0, opener: document.activeElement };
    state.committed = state.ops.slice();
    state.committedRedo = state.redo.slice();
    input.stroke = null;
    input.pan = null;
    input.pinch = null;
    input.touches.clear();
    input.spaceDown = false;
    toggleOriginal(false);
    toggleHelp(false);
    ui.loading.hidden = false;
    ui.loading.textContent = "Loading the image…";
    ui.world.hidden = true;
    ui.cursor.hidden = true;
    ui.meta.textContent = first.name || "";
    ui.apply.disabled = true;
    document.documentElement.classList.add("mask-editor-open");
    ui.dialog.showModal();
    ui.stage.focus({ preventScroll: true });
    const current = session;
    return loadImage(ui.image, first.src).then(function (img) {
      if (session !== current) return false;
      const width = img.naturalWidth;
      const height = img.naturalHeight;
      session.width = width;
      session.height = height;
      if (!state.canvas || state.width !== width || state.height !== height) {
        state.canvas = document.createElement("canvas");
        state.canvas.width = width;
        state.canvas.height = height;
        state.width = width;
        state.height = height;
        replay(state);
      }
      state.canvas.className = "me-mask";
      ui.world.querySelectorAll("canvas").forEach(function (c) { if (c !== state.canvas) c.remove(); });
      if (state.canvas.parentNode !== ui.world) ui.world.appendChild(state.canvas);
      ui.world.style.width = width + "px";
      ui.world.style.height = height + "px";
      ui.meta.textContent = (first.name ? first.name + " · " : "") + width + " × " + height + " px";
      if (!state.size) setSize(Math.max(4, Math.round(Math.max(width, height) / 18)));
      else setSize(state.size);
      ui.loading.hidden = true;
      ui.world.hidden = false;
      ui.apply.disabled = false;
      if (state.discarded) {
        ui.restore.hidden = false;
        const n = state.discarded.ops.length - state.ops.length;
        ui.restoreText.textContent = n > 0
          ? "You closed the editor without applying " + n + " change" + (n === 1 ? "" : "s") + "."
          : "You closed the editor without applying your changes.";
      } else {
        ui.restore.hidden = true;
      }
      fit();
      afterChange();
      const uploaded = maskInput(form) && maskInput(form).files[0];
      if (state.source === "uploaded" && uploaded && !state.ops.length && window.createImageBitmap) {
        return importMask(uploaded, width, height).then(function (op) {
          if (session !== current || state.ops.length) return true;
          state.ops = [op];
          state.committed = state.ops.slice();
          replay(state);
          session.note = "Started from the uploaded mask " + op.name + ".";
          afterChange();
          return true;
        }, function () { return true; });
      }
      return true;
    }).catch(function (error) {
      if (session !== current) return false;
      ui.loading.textContent = "Could not load the first reference image. " + error.message;
      return false;
    });
  }

  function sameOps(a, b) {
    return a.length === b.length && a.every(function (op, i) { return op === b[i]; });
  }

  function cancel() {
    if (!session) return;
    if (input.stroke) abortStroke();
    close();
  }

  // Closing without Apply keeps the mask as it was; what was painted since opening can be
  // brought back from a banner the next time.
  function revertUnapplied(state) {
    if (sameOps(state.ops, state.committed)) return;
    state.discarded = { ops: state.ops.slice(), redo: state.redo.slice() };
    state.ops = state.committed.slice();
    state.redo = state.committedRedo.slice();
    replay(state);
  }

  function apply() {
    if (!session || !session.width || ui.apply.disabled || session.applying) return Promise.resolve(false);
    if (input.stroke) endStroke();
    const current = session;
    const state = current.state;
    const form = current.form;
    if (state.source === "uploaded" && sameOps(state.ops, state.committed)) {
      close(); // nothing changed: the uploaded file stays as it is
      return Promise.resolve(true);
    }
    const fraction = exactFraction(state);
    state.committed = state.ops.slice();
    state.committedRedo = state.redo.slice();
    state.discarded = null;
    if (fraction === 0) {
      state.source = null;
      setMaskFile(form, null);
      setStatus(form, state.ops.length ? "Nothing painted, so no mask: the whole image may change." : state.defaultStatus);
      close();
      return Promise.resolve(true);
    }
    // aria-disabled, not disabled: the button keeps focus while the PNG is encoded.
    current.applying = true;
    ui.apply.setAttribute("aria-disabled", "true");
    ui.apply.textContent = "Applying…";
    const preview = previewUrl(state, ui.image);
    return exportMask(state).then(function (blob) {
      const file = new File([blob], "mask.png", { type: "image/png", lastModified: Date.now() });
      state.source = "painted";
      setMaskFile(form, file);
      setStatus(form, "Mask painted: " + percent(fraction) + " of the image will change", { preview: preview, tone: "ok" });
      ui.apply.textContent = "Apply mask";
      if (session === current) close();
      return true;
    }).catch(function (error) {
      current.applying = false;
      ui.apply.textContent = "Apply mask";
      ui.apply.removeAttribute("aria-disabled");
      ui.coverage.textContent = error.message;
      return false;
    });
  }

  function close() {
    if (ui && ui.dialog.open) ui.dialog.close();
    // Now rather than on the queued "close" event: no key may reach a closed editor.
    if (session) finishSession();
  }

  function finishSession() {
    const opener = session && session.opener;
    revertUnapplied(session.state);
    session = null;
    input.stroke = null;
    input.pan = null;
    input.pinch = null;
    input.hover = null;
    input.touches.clear();
    input.spaceDown = false;
    ui.apply.disabled = false;
    ui.apply.removeAttribute("aria-disabled");
    ui.apply.textContent = "Apply mask";
    document.documentElement.classList.remove("mask-editor-open");
    const form = currentForm();
    const back = form && form.querySelector("[data-open-mask-editor]");
    if (opener && opener.isConnected && opener.focus) opener.focus({ preventScroll: true });
    else if (back) back.focus({ preventScroll: true });
  }

  // The public API, window.PlaygroundMaskEditor, lives in mask-loader.js and calls these.
  window.PlaygroundMaskForm.register({
    open: open,
    close: cancel,
    apply: apply,
    paintedFraction: function () {
      const form = currentForm();
      return form && hasState(form) ? exactFraction(stateFor(form)) : 0;
    },
    isOpen: function () { return !!session; },
  });
})();
