// Prompt examples, filling the form: loaded by index.js on the first click of an example.
// The prompts come from the JSON file the row names, fetched then, and an edit example's
// pictures only when it is chosen. They become uploads exactly like picked files (the
// references widget), and a mask goes into the mask input like an uploaded one, so the
// request, the status line and the pricing panel behave as they would by hand. A prompt,
// references or a mask the person added are only replaced after a confirm.
import * as references from "../references/index.js";
import "../mask/index.js"; // the mask row hears the change event of the example's mask

const TYPES = { png: "image/png", webp: "image/webp", jpg: "image/jpeg" };
let data = null; // the promise of examples.json
let applied = { prompt: "", files: new Set() }; // what the last example put in the form
let turn = 0; // a later click wins over one whose pictures are still loading

async function get(url, as) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response[as]();
}

function loadExamples(row) {
  if (!data) {
    data = get(row.dataset.examplesSrc, "json");
    data.catch(() => {
      data = null; // the next click tries again
    });
  }
  return data;
}

function signature(file) {
  return `${file.name}:${file.size}:${file.lastModified}`;
}

async function picture(url) {
  const name = url.pathname.split("/").pop();
  const blob = await get(url, "blob");
  return new File([blob], name, { type: TYPES[name.split(".").pop()] || blob.type });
}

// What the person put in the form themselves, which the example would replace.
function ownWork(form) {
  const own = [];
  const text = form.querySelector("[name=prompt]").value.trim();
  if (text && text !== applied.prompt) own.push("prompt");
  const mine = (ref) => !ref || !ref.file || !applied.files.has(signature(ref.file));
  if (references.list().some(mine)) own.push("reference images");
  const mask = form.querySelector("[data-mask-input]");
  if (mask && mask.files.length && !applied.files.has(signature(mask.files[0]))) own.push("mask");
  return own;
}

function question(own, example) {
  const what = own.join(" and ").replace(/ and (?=.* and )/, ", ");
  return `Replace your ${what} with the example “${example.title}”?`;
}

// Sets a parameter only where the chosen model offers that value.
function setParam(form, name, value) {
  const fields = Array.from(form.querySelectorAll(`[name='${name}']`));
  let field = fields.find((f) => f.type === "radio" && f.value === value);
  if (field) {
    if (field.checked) return;
    field.checked = true;
  } else {
    field = fields.find((f) => f.type !== "radio");
    if (!field || field.value === value) return;
    if (field.tagName === "SELECT" && !field.querySelector(`option[value='${value}']`)) return;
    if (field.type === "hidden" || field.type === "file") return;
    field.value = value;
  }
  field.dispatchEvent(new Event("change", { bubbles: true }));
}

function setMask(form, file) {
  const input = form.querySelector("[data-mask-input]");
  if (!input || (!file && !input.files.length)) return;
  const transfer = new DataTransfer();
  if (file) transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function fill(form, example, files) {
  const prompt = form.querySelector("[name=prompt]");
  prompt.value = example.prompt;
  prompt.scrollTop = 0;
  prompt.dispatchEvent(new Event("input", { bubbles: true }));
  Object.entries(example.params).forEach(([name, value]) => setParam(form, name, value));
  const mask = example.mask ? files.pop() : null;
  if (references.count()) references.clear();
  if (files.length) references.addFiles(files);
  setMask(form, mask); // after the references: a new first image would question the mask
  applied = { prompt: example.prompt, files: new Set(files.concat(mask || []).map(signature)) };
}

function say(row, text, tone) {
  const status = row.querySelector("[data-examples-status]");
  if (!status) return;
  status.textContent = text;
  if (tone) status.dataset.tone = tone;
  else delete status.dataset.tone;
}

function loadedText(example) {
  const parts = [];
  const count = example.references.length;
  if (count) parts.push(`${count} reference picture${count > 1 ? "s" : ""}`);
  if (example.mask) parts.push("a mask");
  const extra = parts.length ? " with " + parts.join(" and ") : "";
  return `“${example.title}” is in the form${extra}.`;
}

// Fills the form from one example; false when the person kept their own work.
async function fillFrom(row, form, slug, mine) {
  const all = await loadExamples(row);
  const example = all.examples[slug];
  if (!example) throw new Error("No example " + slug);
  const own = ownWork(form);
  if (mine !== turn || (own.length && !window.confirm(question(own, example)))) return false;
  const base = new URL(row.dataset.examplesSrc, document.baseURI);
  const names = example.references.concat(example.mask ? [example.mask] : []);
  const files = await Promise.all(names.map((name) => picture(new URL(name, base))));
  if (mine !== turn) return false;
  fill(form, example, files);
  say(row, loadedText(example));
  return true;
}

export async function choose(button) {
  const row = button.closest("[data-examples]");
  const form = row.closest("form");
  const mine = ++turn;
  button.setAttribute("aria-busy", "true");
  say(row, "Loading the example…");
  try {
    const done = await fillFrom(row, form, button.dataset.example, mine);
    if (!done && mine === turn) say(row, "");
  } catch {
    const text = "The example could not be loaded. Check the connection and try again.";
    if (mine === turn) say(row, text, "warn");
  } finally {
    button.removeAttribute("aria-busy");
  }
}

// The "is in the form" note holds until the person edits the prompt.
document.addEventListener("input", (event) => {
  const form = event.isTrusted && event.target.form;
  const row = form && event.target.name === "prompt" && form.querySelector("[data-examples]");
  if (row && !row.querySelector("[aria-busy]")) say(row, "");
});
