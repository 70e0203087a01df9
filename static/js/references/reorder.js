// Reordering and removing chips by pointer (mouse, pen and touch) and by keyboard. Chips
// allow vertical panning, so a sideways touch drag reorders and an upward swipe scrolls.

import { chipsOf, listOf, nameOf } from "./chips.js";
import { flip, pulse } from "./feedback.js";
import { chipKeyAction, dropSlot } from "./logic.js";
import { moveTo, removeChip, renumber, sync } from "./tray.js";

const CHIP = "[data-references] [data-reference]";
let drag = null;

function startDrag(event) {
  const chip = drag.chip;
  const rect = chip.getBoundingClientRect();
  const ghost = chip.cloneNode(true);
  ghost.querySelectorAll("input, button").forEach((node) => node.remove());
  ghost.removeAttribute("data-reference");
  ghost.removeAttribute("tabindex");
  ghost.removeAttribute("aria-label");
  ghost.setAttribute("aria-hidden", "true");
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
  capture(chip, event.pointerId);
}

function capture(chip, pointerId) {
  try {
    chip.setPointerCapture(pointerId);
  } catch {
    // The pointer was already released.
  }
}

function moveGhost(x, y) {
  const dx = x - drag.offsetX;
  const dy = y - drag.offsetY;
  drag.ghost.style.transform = `translate(${dx}px,${dy}px) rotate(-3deg) scale(1.06)`;
}

function renumberGhost() {
  const position = chipsOf(drag.section).indexOf(drag.chip);
  const number = drag.ghost.querySelector(".reference-index");
  if (number) number.textContent = String(position + 1);
  drag.ghost.classList.toggle("is-first", position === 0);
}

// A chip's box in the settled layout. A chip that was just moved is still gliding to its
// slot (flip), and its on-screen box lags behind: deciding from that box made the order
// flip back and forth while the pointer rested between two chips.
function layoutBox(chip) {
  const list = chip.parentNode; // positioned (edit.css), so it is the offsetParent
  const origin = list.getBoundingClientRect();
  return {
    left: origin.left + list.clientLeft - list.scrollLeft + chip.offsetLeft,
    top: origin.top + list.clientTop - list.scrollTop + chip.offsetTop,
    width: chip.offsetWidth,
    height: chip.offsetHeight,
  };
}

function reorderAt(x, y) {
  const list = listOf(drag.section);
  const chips = chipsOf(drag.section);
  const slot = dropSlot(x, y, chips.map(layoutBox), chips.indexOf(drag.chip), list.getBoundingClientRect());
  if (slot < 0) return;
  flip(list, () => list.insertBefore(drag.chip, chips[slot] || null));
  // Moving the chip in the document released its pointer capture; keep the drag's pointer.
  capture(drag.chip, drag.pointerId);
  renumber(drag.section);
  renumberGhost();
}

function endDrag(commit) {
  const current = drag;
  drag = null;
  if (!current || !current.started) return;
  const { chip, section, fromIndex } = current;
  current.ghost.remove();
  chip.classList.remove("is-placeholder");
  listOf(section).classList.remove("is-sorting");
  if (!commit) {
    const others = chipsOf(section).filter((other) => other !== chip);
    listOf(section).insertBefore(chip, others[fromIndex] || null);
  }
  const index = chipsOf(section).indexOf(chip);
  const moved = commit && index !== fromIndex;
  const announcement = moved ? nameOf(chip) + " moved to position " + (index + 1) + "." : "";
  sync(section, { announcement });
  pulse(chip);
}

function onPointerDown(event) {
  const chip = event.target.closest && event.target.closest(CHIP);
  if (!chip || event.target.closest("[data-remove]") || event.button !== 0 || drag) return;
  const section = chip.closest("[data-references]");
  if (event.pointerType === "mouse") {
    event.preventDefault(); // no text selection or native image drag
    chip.focus({ preventScroll: true });
  }
  drag = {
    chip,
    section,
    pointerId: event.pointerId,
    startX: event.clientX,
    startY: event.clientY,
    started: false,
    fromIndex: chipsOf(section).indexOf(chip),
  };
}

function onPointerMove(event) {
  if (!drag || event.pointerId !== drag.pointerId) return;
  if (!drag.started) {
    if (Math.hypot(event.clientX - drag.startX, event.clientY - drag.startY) < 6) return;
    if (chipsOf(drag.section).length < 2) return;
    startDrag(event);
  }
  event.preventDefault();
  moveGhost(event.clientX, event.clientY);
  reorderAt(event.clientX, event.clientY);
}

function onChipKey(event) {
  const target = event.target;
  if (!target.matches || !target.matches(CHIP)) return;
  const section = target.closest("[data-references]");
  const chips = chipsOf(section);
  const action = chipKeyAction(event, chips.indexOf(target), chips.length);
  if (!action) return;
  event.preventDefault();
  if ("move" in action) moveTo(section, target, action.move);
  else if (action.remove) removeChip(section, target);
  else chips[action.focus].focus();
}

function onKeyDown(event) {
  if (drag && event.key === "Escape") {
    endDrag(false);
    return;
  }
  onChipKey(event);
}

function onClick(event) {
  const remove = event.target.closest && event.target.closest(CHIP + " [data-remove]");
  if (!remove) return;
  event.preventDefault();
  removeChip(remove.closest("[data-references]"), remove.closest("[data-reference]"));
}

document.addEventListener("pointerdown", onPointerDown);
document.addEventListener("pointermove", onPointerMove);
document.addEventListener("pointerup", (event) => {
  if (drag && event.pointerId === drag.pointerId) endDrag(true);
});
document.addEventListener("pointercancel", (event) => {
  if (drag && event.pointerId === drag.pointerId) endDrag(false);
});
document.addEventListener("dragstart", (event) => {
  if (event.target.closest && event.target.closest(CHIP)) event.preventDefault();
});
document.addEventListener("keydown", onKeyDown);
document.addEventListener("click", onClick);
