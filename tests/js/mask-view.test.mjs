// The mask editor's view: fitting, zooming at a point, panning, pinching and coordinates.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as view from "../../static/js/mask/view.js";

const stage = { width: 1000, height: 800 };
const image = { width: 500, height: 500 };
const close = (actual, expected) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test("fitting centres the whole image inside a padded stage", () => {
  const fitted = view.fitView(stage, image);
  assert.deepEqual(fitted, { scale: 1.44, tx: 140, ty: 40, fitted: true }); // (800 - 80) / 500
  const small = view.fitView({ width: 400, height: 300 }, { width: 400, height: 100 });
  assert.equal(small.scale, (400 - 24) / 400, "a narrow stage pads 12 px, not 40");
});

test("image and stage coordinates are inverse transforms", () => {
  const v = { scale: 2, tx: 30, ty: -10, fitted: false };
  const p = view.toImage(v, { x: 130, y: 90 });
  assert.deepEqual(p, { x: 50, y: 50 });
  assert.deepEqual(view.toStage(v, p), { x: 130, y: 90 });
});

test("zooming keeps the image point under the pointer in place", () => {
  const v = view.fitView(stage, image);
  const pointer = { x: 300, y: 200 };
  const before = view.toImage(v, pointer);
  const zoomed = view.zoomAt(v, v.scale * 2, stage, image, pointer.x, pointer.y);
  assert.equal(zoomed.fitted, false);
  close(zoomed.scale, 2.88);
  const after = view.toImage(zoomed, pointer);
  close(after.x, before.x);
  close(after.y, before.y);
});

test("zoom is limited to 32x and a quarter of the fit", () => {
  const v = view.fitView(stage, image);
  assert.equal(view.zoomAt(v, 1000, stage, image).scale, view.MAX_SCALE);
  assert.equal(view.zoomAt(v, 0.0001, stage, image).scale, view.minScale(stage, image));
  assert.equal(view.minScale(stage, image), 0.05);
});

test("panning keeps a piece of the image on screen", () => {
  const v = { scale: 1, tx: 0, ty: 0, fitted: true };
  const far = view.panBy(v, -5000, 5000, stage, image);
  assert.equal(far.tx, 80 - 500);
  assert.equal(far.ty, 800 - 80);
  assert.equal(far.fitted, false);
  const near = view.panBy(v, 10, 20, stage, image);
  assert.deepEqual([near.tx, near.ty], [10, 20]);
});

test("a pinch scales by the fingers' spread around their midpoint", () => {
  const from = { scale: 1, tx: 100, ty: 100, fitted: false };
  const start = { view: from, distance: 100, mid: { x: 300, y: 300 } };
  const pinched = view.pinchView(start, 200, { x: 300, y: 300 }, stage, image);
  assert.equal(pinched.scale, 2);
  assert.deepEqual(view.toImage(pinched, { x: 300, y: 300 }), { x: 200, y: 200 });
  const moved = view.pinchView(start, 100, { x: 350, y: 320 }, stage, image);
  assert.deepEqual([moved.tx, moved.ty], [150, 120], "same spread: a two-finger pan");
});

test("wheel deltas zoom in on negative deltas, faster for pinches, lines count 16 px", () => {
  assert.ok(view.wheelFactor(-100, 0, false) > 1);
  assert.ok(view.wheelFactor(100, 0, false) < 1);
  close(view.wheelFactor(10, 0, true), Math.exp(-0.1));
  close(view.wheelFactor(1, 1, false), view.wheelFactor(16, 0, false));
  close(view.wheelFactor(1, 2, false), view.wheelFactor(400, 0, false));
});

test("the zoom label and the 100 % check", () => {
  assert.equal(view.percentLabel({ scale: 1.444 }), "144 %");
  assert.equal(view.isActualSize({ scale: 1.0004 }), true);
  assert.equal(view.isActualSize({ scale: 1.01 }), false);
  const spread = view.distanceAndMid({ x: 0, y: 0 }, { x: 6, y: 8 });
  assert.deepEqual(spread, { distance: 10, mid: { x: 3, y: 4 } });
});
