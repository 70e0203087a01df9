// What the tray tells people: problems, screen reader announcements and small motions.

const REDUCED_MOTION = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

function motionAllowed() {
  return !(REDUCED_MOTION && REDUCED_MOTION.matches);
}

export function announce(section, message) {
  let live = section.querySelector(".references-live");
  if (!live) {
    live = document.createElement("div");
    live.className = "references-live visually-hidden";
    live.setAttribute("aria-live", "polite");
    section.appendChild(live);
  }
  live.textContent = "";
  window.setTimeout(() => {
    live.textContent = message;
  }, 30);
}

export function showProblems(section, problems) {
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

/** Animates the list's items from where they were to where `mutate` puts them. */
export function flip(list, mutate) {
  if (!list || !list.animate || !motionAllowed()) {
    mutate();
    return;
  }
  const items = Array.from(list.children);
  const before = new Map(items.map((item) => [item, item.getBoundingClientRect()]));
  mutate();
  for (const item of items) {
    if (!item.isConnected || item.classList.contains("is-placeholder")) continue;
    const was = before.get(item);
    const now = item.getBoundingClientRect();
    const dx = was.left - now.left;
    const dy = was.top - now.top;
    if (Math.abs(dx) < 1 && Math.abs(dy) < 1) continue;
    item.animate(
      [{ transform: "translate(" + dx + "px," + dy + "px)" }, { transform: "none" }],
      { duration: 180, easing: "cubic-bezier(.2,.8,.2,1)" },
    );
  }
}

export function pulse(chip) {
  if (!chip.animate || !motionAllowed()) return;
  chip.animate(
    [{ transform: "scale(1)" }, { transform: "scale(1.08)" }, { transform: "scale(1)" }],
    { duration: 260, easing: "ease-out" },
  );
}
