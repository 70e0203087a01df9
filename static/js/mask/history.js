// The editor's history: a list of operations (strokes, clear, invert, an imported mask)
// replayed for undo, plus what was last applied and what a cancelled session left behind.
// Plain data, no DOM: the caller draws or replays the canvas when these functions say so.

export function emptyHistory() {
  return { ops: [], redo: [], committed: [], committedRedo: [], discarded: null };
}

export function clearHistory(history) {
  Object.assign(history, emptyHistory());
}

export function sameOps(a, b) {
  return a.length === b.length && a.every((op, i) => op === b[i]);
}

// A new operation; a branch of undone operations is dropped.
export function record(history, op) {
  history.ops.push(op);
  history.redo = [];
}

// The operation undone (the canvas must be replayed), or null.
export function undo(history) {
  if (!history.ops.length) return null;
  const op = history.ops.pop();
  history.redo.push(op);
  return op;
}

// The operation redone (it can be drawn on top), or null.
export function redo(history) {
  if (!history.redo.length) return null;
  const op = history.redo.pop();
  history.ops.push(op);
  return op;
}

// Remembers where a session starts, so that closing it without applying can go back there.
export function snapshot(history) {
  history.committed = history.ops.slice();
  history.committedRedo = history.redo.slice();
}

// Applying: the current operations are the mask now; nothing left to bring back.
export function commit(history) {
  snapshot(history);
  history.discarded = null;
}

export function isUnchanged(history) {
  return sameOps(history.ops, history.committed);
}

// Closing without applying goes back to the last snapshot and keeps what was painted since,
// for a "bring them back" offer. True when the canvas must be replayed.
export function revertUnapplied(history) {
  if (isUnchanged(history)) return false;
  history.discarded = { ops: history.ops.slice(), redo: history.redo.slice() };
  history.ops = history.committed.slice();
  history.redo = history.committedRedo.slice();
  return true;
}

// Brings back what the last cancelled session painted. True when the canvas must be replayed.
export function restoreDiscarded(history) {
  const discarded = history.discarded;
  history.discarded = null;
  if (!discarded) return false;
  history.ops = discarded.ops;
  history.redo = discarded.redo;
  return true;
}

// How many operations the last cancelled session added (0 when it only undid some).
export function discardedCount(history) {
  return history.discarded ? Math.max(0, history.discarded.ops.length - history.ops.length) : 0;
}

// An uploaded mask as the starting point of an untouched history.
export function startFrom(history, op) {
  history.ops = [op];
  history.redo = [];
  history.committed = history.ops.slice();
}
