// The mask editor's history: undo, redo, applying and closing without applying.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as history from "../../static/js/mask/history.js";

const stroke = (name) => ({ type: "stroke", name });

test("undo and redo move operations between the two stacks", () => {
  const h = history.emptyHistory();
  const a = stroke("a");
  const b = stroke("b");
  history.record(h, a);
  history.record(h, b);
  assert.equal(history.undo(h), b);
  assert.deepEqual(h.ops, [a]);
  assert.deepEqual(h.redo, [b]);
  assert.equal(history.redo(h), b);
  assert.deepEqual(h.ops, [a, b]);
  assert.equal(history.redo(h), null);
  history.undo(h);
  history.undo(h);
  assert.equal(history.undo(h), null);
  assert.deepEqual(h.redo, [b, a]);
});

test("a new operation drops what was undone", () => {
  const h = history.emptyHistory();
  history.record(h, stroke("a"));
  history.undo(h);
  const c = stroke("c");
  history.record(h, c);
  assert.deepEqual(h.ops, [c]);
  assert.deepEqual(h.redo, []);
});

test("closing without applying goes back to the snapshot and keeps the rest to bring back", () => {
  const h = history.emptyHistory();
  const a = stroke("a");
  history.record(h, a);
  history.commit(h);
  history.snapshot(h); // the editor opens again
  assert.equal(history.revertUnapplied(h), false, "nothing changed, nothing to replay");
  assert.equal(h.discarded, null);

  const b = stroke("b");
  const c = stroke("c");
  history.record(h, b);
  history.record(h, c);
  assert.equal(history.isUnchanged(h), false);
  assert.equal(history.revertUnapplied(h), true);
  assert.deepEqual(h.ops, [a]);
  assert.equal(history.discardedCount(h), 2);

  assert.equal(history.restoreDiscarded(h), true);
  assert.deepEqual(h.ops, [a, b, c]);
  assert.equal(h.discarded, null);
  assert.equal(history.restoreDiscarded(h), false);
});

test("an undo-only session counts no added change", () => {
  const h = history.emptyHistory();
  history.record(h, stroke("a"));
  history.record(h, stroke("b"));
  history.commit(h);
  history.undo(h);
  assert.equal(history.revertUnapplied(h), true);
  assert.equal(h.ops.length, 2);
  assert.equal(history.discardedCount(h), 0);
});

test("applying commits the operations and forgets the discarded ones", () => {
  const h = history.emptyHistory();
  history.record(h, stroke("a"));
  history.revertUnapplied(h);
  assert.notEqual(h.discarded, null);
  history.record(h, stroke("b"));
  history.commit(h);
  assert.equal(h.discarded, null);
  assert.equal(history.isUnchanged(h), true);
  assert.deepEqual(h.committed, h.ops);
  assert.notEqual(h.committed, h.ops, "a copy, not the live list");
});

test("an uploaded mask starts an untouched history; clearing empties everything", () => {
  const h = history.emptyHistory();
  const upload = { type: "import", name: "bw.png" };
  history.startFrom(h, upload);
  assert.deepEqual(h.ops, [upload]);
  assert.equal(history.isUnchanged(h), true);
  history.clearHistory(h);
  assert.deepEqual(h, history.emptyHistory());
});

test("sameOps compares operations by identity", () => {
  const a = stroke("a");
  assert.equal(history.sameOps([a], [a]), true);
  assert.equal(history.sameOps([a], [stroke("a")]), false);
  assert.equal(history.sameOps([a], []), false);
});
