// Reference images for edits: a tray of chips filled by drag and drop, paste or a
// file picker, reorderable by pointer or keyboard. The hidden `image[]` input always
// holds the uploads in chip order and `image_order` describes every chip
// ("upload,gallery:12,upload"), so a plain submit and htmx's multipart submit agree.
// The first chip is the image a mask applies to; see mask-editor.js.
(function () {
  "use strict";

  const ACCEPTED = ["image/png", "image/jpeg", "image/webp"];
  const BY_EXTENSION = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", jfif: "image/jpeg", webp: "image/webp" };
  const MAX_BYTES = 50 * 1024 * 1024; // the Images API refuses larger inputs
  const REDUCED_MOTION = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  const uploads = new WeakMap(); // upload chip -> {file, url}
  const sectionState = new WeakMap(); // section -> {signature, firstKey}
  const liveUrls = new Map(); // object URL -> chip, to revoke what a swap threw away
  let keySeed = 0;
  let pasteSeed = 0;

  // ---------------------------------------------------------------- lookups

  function findSection() {
    return document.querySelector("#generate-form [data-references]") || document.querySelector("[data-references]");
  }
  function formOf(section) {
    return section.closest("form") || section.parentElement;
  }
  function listOf(section) {
    return section.querySelector("[data-reference-list]");
  }
  function chipsOf(section) {
    const list = listOf(section);
    return list ? Array.from(list.children).filter((el) => el.matches("[data-reference]")) : [];
  }
  function maxOf(section) {
    const max = parseInt(section.dataset.max, 10);
    return max > 0 ? max : 16;
  }
  function keyOf(chip) {
    if (!chip.dataset.key) chip.dataset.key = "r" + ++keySeed;
    return chip.dataset.key;
  }
  function galleryId(chip) {
    const input = chip.querySelector("input[name=reference]");
    return input ? input.value : "";
  }
  function nameOf(chip) {
    if (chip.dataset.kind === "upload") {
      const entry = uploads.get(chip);
      return entry ? entry.file.name : "image";
    }
    return chip.dataset.name || "Gallery image " + galleryId(chip);
  }
  // A modal dialog (such as the mask editor) owns paste and drop while it is open.
  function dialogOpen() {
    try {
      return !!document.querySelector("dialog:modal");
    } catch (error) {
      return !!document.querySelector("dialog.mask-editor[open]");
    }
  }

  // ---------------------------------------------------------------- chips

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function removeButton() {
    const button = el("button", "reference-remove", "×");
    button.type = "button";
    button.dataset.remove = "";
    button.setAttribute("aria-label", "Remove");
    return button;
  }

  // Adds what the script needs to any chip, server-rendered or not: a key, focus,
  // a position number, and the place for the "mask applies here" badge.
  function enhance(chip) {
    keyOf(chip);
    chip.tabIndex = 0;
    const img = chip.querySelector("img");
    if (img) {
      img.draggable = false;
      if (chip.dataset.kind === "gallery" && (!chip.dataset.width || !chip.dataset.height)) {
        img.addEventListener("load", function onLoad() {
          // A thumbnail only tells the aspect ratio; the editor reads the real size.
          chip.dataset.aspect = String(img.naturalWidth / img.naturalHeight);
        }, { once: true });
      }
    }
    if (!chip.title) chip.title = nameOf(chip);
    if (!chip.querySelector(".reference-index")) {
      const index = el("span", "reference-index");
      index.setAttribute("aria-hidden", "true");
      chip.appendChild(index);
    }
    if (!chip.querySelector(".reference-badge")) {
      const badge = el("span", "reference-badge", "Mask");
      badge.title = "A mask applies to the first image";
      chip.appendChild(badge);
    }
    return chip;
  }

  function uploadChip(section, file) {
    const chip = el("li", "reference");
    chip.dataset.reference = "";
    chip.dataset.kind = "upload";
    chip.title = file.name;
    const url = URL.createObjectURL(file);
    uploads.set(chip, { file: file, url: url });
    liveUrls.set(url, chip);
    const img = el("img");
    img.alt = "";
    img.decoding = "async";
    img.addEventListener("load", function () {
      chip.dataset.width = String(img.naturalWidth);
      chip.dataset.height = String(img.naturalHeight);
      chip.title = file.name + " · " + img.naturalWidth + "×" + img.naturalHeight;
      label(section);
      // The pricing panel counts reference pixels: tell it the size is now known.
      chip.dispatchEvent(new CustomEvent("references:measured", { bubbles: true }));
    }, { once: true });
    img.addEventListener("error", function () {
      if (!chip.isConnected) return;
      removeChip(section, chip, { silent: true });
      showProblems(section, [file.name + ": could not be read as an image"]);
    }, { once: true });
    img.src = url;
    chip.appendChild(img);
    chip.appendChild(removeButton());
    return enhance(chip);
  }

  function galleryChip(image) {
    const chip = el("li", "reference");
    chip.dataset.reference = "";
    chip.dataset.kind = "gallery";
    chip.dataset.src = image.src || "";
    chip.dataset.thumb = image.thumb || image.src || "";
    if (image.width) chip.dataset.width = String(image.width);
    if (image.height) chip.dataset.height = String(image.height);
    if (image.name) chip.dataset.name = image.name;
    const img = el("img");
    img.alt = "";
    img.src = chip.dataset.thumb;
    const input = el("input");
    input.type = "hidden";
    input.name = "reference";
    input.value = String(image.id);
    chip.appendChild(img);
    chip.appendChild(input);
    chip.appendChild(removeButton());
    return enhance(chip);
  }

  function forget(chip) {
    const entry = uploads.get(chip);
    if (entry) {
      URL.revokeObjectURL(entry.url);
      liveUrls.delete(entry.url);
      uploads.delete(chip);
    }
  }

  // ---------------------------------------------------------------- state -> form

  function label(section) {
    const chips = chipsOf(section);
    chips.forEach(function (chip, i) {
      const size = chip.dataset.width && chip.dataset.height ? ", " + chip.dataset.width + "×" + chip.dataset.height : "";
      chip.setAttribute(
        "aria-label",
        "Reference " + (i + 1) + " of " + chips.length + ": " + nameOf(chip) + size +
          (i === 0 ? ", the mask applies to this image" : "") +
          ". Alt+Arrow keys move it, Delete removes it."
      );
    });
  }

  // Position numbers and the first-image mark; also run live while a chip is dragged.
  function renumber(section) {
    chipsOf(section).forEach(function (chip, i) {
      chip.classList.toggle("is-first", i === 0);
      const index = chip.querySelector(".reference-index");
      if (index) index.textContent = String(i + 1);
    });
    if (drag && drag.ghost && drag.section === section) {
      const index = drag.ghost.querySelector(".reference-index");
      const position = chipsOf(section).indexOf(drag.chip);
      if (index) index.textContent = String(position + 1);
      drag.ghost.classList.toggle("is-first", position === 0);
    }
  }

  function sync(section, options) {
    options = options || {};
    const form = formOf(section);
    const chips = chipsOf(section);
    const files = [];
    const tokens = [];
    renumber(section);
    chips.forEach(function (chip) {
      if (chip.dataset.kind === "upload") {
        const entry = uploads.get(chip);
        if (entry) files.push(entry.file);
        tokens.push("upload");
      } else {
        tokens.push("gallery:" + galleryId(chip));
      }
    });
    label(section);

    const uploadInput = section.querySelector("[data-upload-input]");
    if (uploadInput) {
      try {
        const transfer = new DataTransfer();
        files.forEach(function (file) { transfer.items.add(file); });
        uploadInput.files = transfer.files;
      } catch (error) {
        // Very old browsers: without a settable FileList only the picker's own input could
        // carry files. Nothing sensible to do but say so.
        showProblems(section, ["This browser cannot attach the images; please update it."]);
      }
    }
    const orderInput = section.querySelector("[data-image-order]");
    if (orderInput) orderInput.value = tokens.join(",");

    const max = maxOf(section);
    const count = section.querySelector("[data-reference-count]");
    if (count) {
      count.textContent = chips.length
        ? chips.length + " of " + max + " reference image" + (max === 1 ? "" : "s") + " · sent to the edits endpoint"
        : "";
    }
    section.classList.toggle("is-full", chips.length >= max);
    applyVisibility(section);

    const state = sectionState.get(section) || { signature: null, firstKey: "" };
    const signature = chips.map(keyOf).join(",");
    const firstKey = chips.length ? keyOf(chips[0]) : "";
    const firstChanged = state.signature !== null && firstKey !== state.firstKey;
    const changed = state.signature !== signature;
    state.signature = signature;
    state.firstKey = firstKey;
    sectionState.set(section, state);
    if (changed && !options.initial) {
      // The server's errors about the previous set of references no longer apply.
      section.querySelectorAll("[data-error-for]").forEach(function (error) { error.hidden = true; });
    }
    if (changed || options.initial) {
      form.dispatchEvent(new CustomEvent("references:changed", {
        bubbles: true,
        detail: {
          count: chips.length,
          firstChanged: firstChanged,
          order: orderInput ? orderInput.value : tokens.join(","),
          first: describe(chips[0]),
          initial: !!options.initial,
        },
      }));
    }
    if (options.announce) announce(section, options.announce);
  }

  // Visibility that depends on having references; cheap and idempotent, so it also runs
  // after htmx swaps parts of the form (e.g. the model's parameter controls).
  function applyVisibility(section) {
    const form = formOf(section);
    const any = chipsOf(section).length > 0;
    form.classList.toggle("has-references", any);
    const row = form.querySelector("[data-mask-row]");
    if (row && row.hidden === any) row.hidden = !any;
    form.querySelectorAll("[data-field=input_fidelity]").forEach(function (field) {
      if (field.hidden === any) field.hidden = !any;
    });
  }

  function announce(section, message) {
    let live = section.querySelector(".references-live");
    if (!live) {
      live = el("div", "references-live visually-hidden");
      live.setAttribute("aria-live", "polite");
      section.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 30);
  }

  function showProblems(section, problems) {
    const box = section.querySelector("[data-reference-error]");
    if (!box) return;
    box.textContent = problems.join("\n");
    box.hidden = problems.length === 0;
    if (problems.length) {
      box.setAttribute("role", "alert");
      box.classList.remove("is-fresh");
      void box.offsetWidth; // restart the attention animation
      box.classList.add("is-fresh");
    }
  }

  function describe(chip) {
    if (!chip) return null;
    const width = parseInt(chip.dataset.width, 10) || null;
    const height = parseInt(chip.dataset.height, 10) || null;
    if (chip.dataset.kind === "upload") {
      const entry = uploads.get(chip);
      if (!entry) return null;
      return { kind: "upload", src: entry.url, width: width, height: height, name: entry.file.name, file: entry.file, key: keyOf(chip) };
    }
    const img = chip.querySelector("img");
    return {
      kind: "gallery",
      id: galleryId(chip),
      src: chip.dataset.src || chip.dataset.thumb || (img && img.src) || "",
      thumb: chip.dataset.thumb || (img && img.src) || "",
      width: width,
      height: height,
      name: nameOf(chip),
      key: keyOf(chip),
    };
  }

  // ---------------------------------------------------------------- adding

  function imageType(file) {
    const type = (file.type || "").toLowerCase();
    if (ACCEPTED.indexOf(type) >= 0) return type;
    if (type === "image/jpg" || type === "image/pjpeg") return "image/jpeg";
    if (type && type !== "application/octet-stream") return null;
    const match = /\.([a-z0-9]+)$/i.exec(file.name || "");
    return (match && BY_EXTENSION[match[1].toLowerCase()]) || null;
  }

  // Pasted screenshots are all called "image.png": give them distinct names, and give
  // files whose type the browser did not know the type their extension implies.
  function normalise(file, type, origin) {
    const extension = type === "image/jpeg" ? "jpg" : type.split("/")[1];
    let name = file.name || "";
    if (origin === "paste" && (!name || /^image\.(png|jpe?g|webp|gif)$/i.test(name))) {
      name = "pasted-" + ++pasteSeed + "." + extension;
    } else if (!name) {
      name = "image." + extension;
    }
    if (name === file.name && type === file.type) return file;
    return new File([file], name, { type: type, lastModified: file.lastModified || Date.now() });
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function addFiles(section, fileList, origin) {
    if (!section) return 0;
    const files = Array.from(fileList || []);
    if (!files.length) return 0;
    const problems = [];
    const accepted = [];
    files.forEach(function (file) {
      const type = imageType(file);
      const name = file.name || "Pasted item";
      if (!type) problems.push(name + ": only PNG, JPEG or WebP images");
      else if (file.size === 0) problems.push(name + ": the file is empty");
      else if (file.size > MAX_BYTES) problems.push(name + ": larger than 50 MB");
      else accepted.push(normalise(file, type, origin));
    });
    const max = maxOf(section);
    const room = Math.max(0, max - chipsOf(section).length);
    const adding = accepted.slice(0, room);
    const ignored = accepted.length - adding.length;
    if (ignored > 0) {
      problems.push("At most " + max + " reference images: " + plural(ignored, "image was", "images were") + " ignored.");
    }
    const list = listOf(section);
    if (adding.length) {
      flip(list, function () {
        adding.forEach(function (file) { list.appendChild(uploadChip(section, file)); });
      });
    }
    showProblems(section, problems);
    if (adding.length) {
      sync(section, { announce: plural(adding.length, "image", "images") + " added; " + chipsOf(section).length + " in all." });
    }
    return adding.length;
  }

  function addGalleryImage(section, image) {
    if (!section || !image || image.id == null) return false;
    const existing = chipsOf(section).find(function (chip) {
      return chip.dataset.kind === "gallery" && galleryId(chip) === String(image.id);
    });
    if (existing) {
      showProblems(section, []);
      pulse(existing);
      announce(section, "That image is already a reference.");
      return false;
    }
    const max = maxOf(section);
    if (chipsOf(section).length >= max) {
      showProblems(section, ["At most " + max + " reference images: 1 image was ignored."]);
      return false;
    }
    const list = listOf(section);
    const chip = galleryChip(image);
    flip(list, function () { list.appendChild(chip); });
    showProblems(section, []);
    sync(section, { announce: "Gallery image added; " + chipsOf(section).length + " in all." });
    pulse(chip);
    return true;
  }

  function pulse(chip) {
    if (!chip.animate || (REDUCED_MOTION && REDUCED_MOTION.matches)) return;
    chip.animate(
      [{ transform: "scale(1)" }, { transform: "scale(1.08)" }, { transform: "scale(1)" }],
      { duration: 260, easing: "ease-out" }
    );
  }

  function removeChip(section, chip, options) {
    options = options || {};
    const chips = chipsOf(section);
    const index = chips.indexOf(chip);
    const name = nameOf(chip);
    const hadFocus = chip.contains(document.activeElement);
    flip(listOf(section), function () { chip.remove(); });
    forget(chip);
    if (!options.silent) showProblems(section, []);
    if (hadFocus) {
      const rest = chipsOf(section);
      const next = rest[Math.min(index, rest.length - 1)];
      if (next) next.focus();
      else {
        const dropzone = section.querySelector("[data-dropzone]");
        if (dropzone) dropzone.focus();
      }
    }
    sync(section, { announce: name + " removed." });
  }

  function clear(section) {
    if (!section) return;
    chipsOf(section).forEach(function (chip) {
      chip.remove();
      forget(chip);
    });
    showProblems(section, []);
    sync(section, { announce: "All reference images removed." });
  }

  // ---------------------------------------------------------------- moving

  // Animates siblings from where they were to where a DOM change puts them.
  function flip(list, mutate) {
    if (!list || !list.animate || (REDUCED_MOTION && REDUCED_MOTION.matches)) {
      mutate();
      return;
    }
    const items = Array.from(list.children);
    const before = new Map(items.map(function (item) { return [item, item.getBoundingClientRect()]; }));
    mutate();
    items.forEach(function (item) {
      if (!item.isConnected || item.classList.contains("is-placeholder")) return;
      const a = before.get(item);
      const b = item.getBoundingClientRect();
      const dx = a.left - b.left;
      const dy = a.top - b.top;
      if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
      item.animate(
        [{ transform: "translate(" + dx + "px," + dy + "px)" }, { transform: "none" }],
        { duration: 180, easing: "cubic-bezier(.2,.8,.2,1)" }
      );
    });
  }

  function moveTo(section, chip, index) {
    const chips = chipsOf(section);
    const from = chips.indexOf(chip);
    index = Math.max(0, Math.min(chips.length - 1, index));
    if (from < 0 || index === from) return;
    const list = listOf(section);
    const rest = chips.filter(function (c) { return c !== chip; });
    flip(list, function () { list.insertBefore(chip, rest[index] || null); });
    chip.focus({ preventScroll: false });
    sync(section, {
      announce: nameOf(chip) + " moved to position " + (index + 1) + " of " + chips.length +
        (index === 0 ? "; the mask applies to it." : "."),
    });
  }

  // Pointer reordering: works with mouse, pen and touch (chips allow vertical panning, so
  // a sideways touch drag reorders and an upward swipe still scrolls the page).
  let drag = null;

  function startDrag(event) {
    const chip = drag.chip;
    const rect = chip.getBoundingClientRect();
    const ghost = chip.cloneNode(true);
    ghost.querySelectorAll("input, button").forEach(function (node) { node.remove(); });
    ghost.removeAttribute("data-reference");
    ghost.removeAttribute("tabindex");
    ghost.removeAttribute("aria-label");
    ghost.classList.add("reference-ghost");
    ghost.style.width = rect.width + "px";
    ghost.style.height = rect.height + "px";
    document.body.appendChild(ghost);
    drag.ghost = ghost;
    drag.offsetX = drag.startX - rect.left;
    drag.offsetY = drag.startY - rect.top;
    drag.started = true;
    chip.classList.add("is-placeholder");
    listOf(drag.section).classList.add("is-sorting");
    try { chip.setPointerCapture(event.pointerId); } catch (error) { /* already released */ }
  }

  function moveGhost(x, y) {
    drag.ghost.style.transform = "translate(" + (x - drag.offsetX) + "px," + (y - drag.offsetY) + "px) rotate(-3deg) scale(1.06)";
  }

  function reorderAt(x, y) {
    const list = listOf(drag.section);
    const chip = drag.chip;
    const hit = document.elementFromPoint(x, y);
    const target = hit && hit.closest && hit.closest("[data-reference]");
    let ref;
    if (target && target !== chip && target.parentNode === list) {
      const r = target.getBoundingClientRect();
      ref = x > r.left + r.width / 2 ? target.nextElementSibling : target;
    } else if (!target && hit && list.contains(hit)) {
      // Over the gaps of the grid: past the last chip means "to the end".
      const chips = chipsOf(drag.section);
      const last = chips[chips.length - 1];
      const r = last.getBoundingClientRect();
      if (last !== chip && (y > r.bottom || (y >= r.top && x > r.right))) ref = null;
      else return;
    } else {
      return;
    }
    if (ref === chip || ref === chip.nextElementSibling) return;
    flip(list, function () { list.insertBefore(chip, ref); });
    renumber(drag.section);
  }

  function endDrag(commit) {
    const current = drag;
    drag = null;
    if (!current || !current.started) return;
    current.ghost.remove();
    current.chip.classList.remove("is-placeholder");
    listOf(current.section).classList.remove("is-sorting");
    if (!commit) {
      const list = listOf(current.section);
      const others = chipsOf(current.section).filter(function (c) { return c !== current.chip; });
      list.insertBefore(current.chip, others[current.fromIndex] || null);
    }
    const index = chipsOf(current.section).indexOf(current.chip);
    sync(current.section, commit && index !== current.fromIndex ? {
      announce: nameOf(current.chip) + " moved to position " + (index + 1) + ".",
    } : {});
    pulse(current.chip);
  }

  document.addEventListener("pointerdown", function (event) {
    const chip = event.target.closest && event.target.closest("[data-references] [data-reference]");
    if (!chip || event.target.closest("[data-remove]") || event.button !== 0 || drag) return;
    const section = chip.closest("[data-references]");
    if (event.pointerType === "mouse") {
      event.preventDefault(); // no text selection or native image drag
      chip.focus({ preventScroll: true });
    }
    drag = {
      chip: chip,
      section: section,
      pointerId: event.pointerId,
      startX: event.clientX,
      startY: event.clientY,
      started: false,
      fromIndex: chipsOf(section).indexOf(chip),
    };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    if (!drag.started) {
      if (Math.hypot(event.clientX - drag.startX, event.clientY - drag.startY) < 6) return;
      if (chipsOf(drag.section).length < 2) return;
      startDrag(event);
    }
    event.preventDefault();
    moveGhost(event.clientX, event.clientY);
    reorderAt(event.clientX, event.clientY);
  });
  document.addEventListener("pointerup", function (event) {
    if (drag && event.pointerId === drag.pointerId) endDrag(true);
  });
  document.addEventListener("pointercancel", function (event) {
    if (drag && event.pointerId === drag.pointerId) endDrag(false);
  });
  document.addEventListener("dragstart", function (event) {
    if (event.target.closest && event.target.closest("[data-references] [data-reference]")) event.preventDefault();
  });

  // ---------------------------------------------------------------- events

  document.addEventListener("click", function (event) {
    const target = event.target;
    if (!target.closest) return;
    const remove = target.closest("[data-references] [data-reference] [data-remove]");
    if (remove) {
      event.preventDefault();
      removeChip(remove.closest("[data-references]"), remove.closest("[data-reference]"));
      return;
    }
    const dropzone = target.closest("[data-references] [data-dropzone]");
    if (dropzone && !target.closest("label, input, button, a")) {
      const picker = dropzone.querySelector("[data-reference-picker]");
      if (picker) picker.click();
    }
  });

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (!target.closest) return;
    if (drag && event.key === "Escape") {
      endDrag(false);
      return;
    }
    if (target.matches("[data-references] [data-dropzone]") && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      const picker = target.querySelector("[data-reference-picker]");
      if (picker) picker.click();
      return;
    }
    if (!target.matches("[data-references] [data-reference]")) return;
    const chip = target;
    const section = chip.closest("[data-references]");
    const chips = chipsOf(section);
    const index = chips.indexOf(chip);
    const back = event.key === "ArrowLeft" || event.key === "ArrowUp";
    const forward = event.key === "ArrowRight" || event.key === "ArrowDown";
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      let to = null;
      if (back) to = index - 1;
      else if (forward) to = index + 1;
      else if (event.key === "Home") to = 0;
      else if (event.key === "End") to = chips.length - 1;
      if (to === null) return;
      event.preventDefault();
      moveTo(section, chip, to);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    let focus = null;
    if (back) focus = chips[index - 1];
    else if (forward) focus = chips[index + 1];
    else if (event.key === "Home") focus = chips[0];
    else if (event.key === "End") focus = chips[chips.length - 1];
    else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      removeChip(section, chip);
      return;
    }
    if (focus) {
      event.preventDefault();
      focus.focus();
    }
  });

  document.addEventListener("change", function (event) {
    const picker = event.target.closest && event.target.closest("[data-references] [data-reference-picker]");
    if (!picker) return;
    addFiles(picker.closest("[data-references]"), picker.files, "picker");
    picker.value = "";
  });

  function clipboardFiles(data) {
    if (!data) return [];
    let files = Array.from(data.files || []);
    if (!files.length && data.items) {
      files = Array.from(data.items)
        .filter(function (item) { return item.kind === "file"; })
        .map(function (item) { return item.getAsFile(); })
        .filter(Boolean);
    }
    return files;
  }

  document.addEventListener("paste", function (event) {
    const section = findSection();
    if (!section || dialogOpen()) return;
    const data = event.clipboardData;
    const files = clipboardFiles(data);
    if (!files.length) return;
    const target = event.target;
    const editable = target && (target.isContentEditable || /^(TEXTAREA|INPUT)$/.test(target.tagName));
    // Text copied from a document can come with a picture of it: in a text field, the
    // person meant the text.
    if (editable && Array.from(data.types || []).indexOf("text/plain") >= 0) return;
    event.preventDefault();
    addFiles(section, files, "paste");
  });

  // Files dragged over the page: the whole form is a drop target, with a highlight that
  // goes away shortly after the last dragover (dragleave is unreliable across children).
  let dropTimer = 0;
  let highlighted = null;
  function hasFiles(event) {
    return !!event.dataTransfer && Array.from(event.dataTransfer.types || []).indexOf("Files") >= 0;
  }
  function setHighlight(form, zone) {
    if (highlighted && highlighted.form !== form) clearHighlight();
    if (form) {
      form.classList.add("is-drop-target");
      form.querySelectorAll("[data-references] [data-dropzone]").forEach(function (node) {
        node.classList.toggle("is-over", node === zone);
      });
      highlighted = { form: form };
    }
    window.clearTimeout(dropTimer);
    dropTimer = window.setTimeout(clearHighlight, 150);
  }
  function clearHighlight() {
    window.clearTimeout(dropTimer);
    if (!highlighted) return;
    highlighted.form.classList.remove("is-drop-target");
    highlighted.form.querySelectorAll("[data-dropzone].is-over").forEach(function (node) { node.classList.remove("is-over"); });
    highlighted = null;
  }
  function dropContext(event) {
    const section = findSection();
    if (!section || dialogOpen()) return null;
    const form = formOf(section);
    if (!form.contains(event.target)) return null;
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    return { section: section, form: form, zone: zone };
  }
  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault(); // also keeps a stray drop from navigating away to the file
    const context = dropContext(event);
    event.dataTransfer.dropEffect = context ? "copy" : "none";
    if (context) setHighlight(context.form, context.zone);
    else clearHighlight();
  });
  document.addEventListener("dragleave", function (event) {
    if (!event.relatedTarget) clearHighlight();
  });
  document.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    clearHighlight();
    const context = dropContext(event);
    if (context) addFiles(context.section, event.dataTransfer.files, "drop");
  });

  // ---------------------------------------------------------------- lifecycle

  const ready = new WeakSet();
  function initAll() {
    document.querySelectorAll("[data-references]").forEach(function (section) {
      if (ready.has(section)) {
        applyVisibility(section);
        return;
      }
      ready.add(section);
      const dropzone = section.querySelector("[data-dropzone]");
      if (dropzone && !dropzone.hasAttribute("role")) {
        // Focusable for paste and Enter (opens the picker); it holds the picker's button.
        dropzone.setAttribute("role", "group");
        dropzone.setAttribute("aria-label", "Add reference images: drop or paste them here, or press Enter to choose files");
      }
      chipsOf(section).forEach(enhance);
      sync(section, { initial: true });
    });
    // Object URLs of chips an htmx swap threw away.
    liveUrls.forEach(function (chip, url) {
      if (!chip.isConnected) {
        URL.revokeObjectURL(url);
        liveUrls.delete(url);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  document.addEventListener("htmx:afterSwap", initAll); // before settling: no flash of hidden fields
  document.addEventListener("htmx:afterSettle", initAll);

  window.PlaygroundReferences = {
    addFiles: function (fileList) { initAll(); return addFiles(findSection(), fileList, "api"); },
    addGalleryImage: function (image) { initAll(); return addGalleryImage(findSection(), image); },
    clear: function () { const section = findSection(); if (section) clear(section); },
    first: function () { const section = findSection(); return section ? describe(chipsOf(section)[0]) : null; },
    count: function () { const section = findSection(); return section ? chipsOf(section).length : 0; },
    list: function () { const section = findSection(); return section ? chipsOf(section).map(describe) : []; },
  };
})();
