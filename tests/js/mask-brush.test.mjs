// Brush sizes, stroke geometry, an uploaded mask's reading and the painted share.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as brush from "../../static/js/mask/brush.js";

test("the size range runs from 1 px to a third of the longest side, at least 64", () => {
  assert.deepEqual(brush.sizeRange(3000, 1200), { min: 1, max: 1000 });
  assert.deepEqual(brush.sizeRange(90, 60), { min: 1, max: 64 });
  assert.deepEqual(brush.sizeRange(0, 0), { min: 1, max: 341 });
  assert.equal(brush.clampSize(5000, { min: 1, max: 64 }), 64);
  assert.equal(brush.clampSize(0.2, { min: 1, max: 64 }), 1);
  assert.equal(brush.defaultSize(1024, 768), 57);
  assert.equal(brush.defaultSize(40, 30), 4);
});

test("the slider is logarithmic and round-trips a size", () => {
  const range = { min: 1, max: 1000 };
  assert.equal(brush.sizeFromSlider(0, range), 1);
  assert.equal(brush.sizeFromSlider(1000, range), 1000);
  assert.equal(brush.sizeFromSlider(500, range), 32); // sqrt(1000)
  for (const size of [1, 7, 32, 100, 1000]) {
    assert.equal(brush.sizeFromSlider(brush.sliderFromSize(size, range), range), size);
  }
  // 1001 slider steps over three decades: large sizes come back within a step (0.7 %).
  const large = brush.sizeFromSlider(brush.sliderFromSize(250, range), range);
  assert.ok(Math.abs(large - 250) <= 250 * 0.007, `${large}`);
});

test("[ and ] change the size by 20 %, and at least a pixel", () => {
  assert.equal(brush.steppedSize(100, 1), 120);
  assert.equal(brush.steppedSize(2, 1), 3);
  assert.equal(brush.steppedSize(120, -1), 100);
  assert.equal(brush.steppedSize(3, -1), 2);
});

test("pressure narrows a pen's stroke; other strokes keep their size", () => {
  assert.equal(brush.strokeWidth({ size: 20, pressure: false }, 0.1), 20);
  assert.equal(brush.strokeWidth({ size: 20, pressure: true }, 1), 20);
  assert.equal(brush.strokeWidth({ size: 20, pressure: true }, 0), 3);
  assert.equal(brush.strokeWidth({ size: 1, pressure: true }, 0), 0.5);
});

test("segments run between midpoints and bend through the points", () => {
  const op = { size: 10, pressure: false, points: [0, 0, 1, 10, 0, 1, 10, 10, 1] };
  assert.equal(brush.pointCount(op), 3);
  assert.deepEqual(brush.point(op, 1), [10, 0, 1]);
  assert.deepEqual(brush.segment(op, 1), {
    from: { x: 0, y: 0 },
    via: { x: 0, y: 0 },
    to: { x: 5, y: 0 },
    width: 10,
  });
  assert.deepEqual(brush.segment(op, 2), {
    from: { x: 5, y: 0 },
    via: { x: 10, y: 0 },
    to: { x: 10, y: 5 },
    width: 10,
  });
  assert.deepEqual(brush.tail(op), { from: { x: 10, y: 5 }, to: { x: 10, y: 10 }, width: 10 });
  assert.equal(brush.tail({ size: 4, points: [1, 1, 1] }), null, "a dot has no tail");
  assert.equal(brush.minStep({ size: 100 }), 4);
  assert.equal(brush.minStep({ size: 2 }), 0.35);
});

test("an uploaded mask without transparency reads white as painted", () => {
  const data = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255]);
  brush.maskFromUpload(data);
  assert.deepEqual(Array.from(data), [255, 0, 230, 255, 255, 0, 230, 0, 255, 0, 230, 128]);
});

test("an uploaded mask with transparency reads transparent as painted", () => {
  const data = new Uint8ClampedArray([255, 255, 255, 0, 0, 0, 0, 255, 9, 9, 9, 55]);
  brush.maskFromUpload(data);
  assert.deepEqual(Array.from(data).filter((_, i) => i % 4 === 3), [255, 0, 200]);
});

test("the painted share and how the editor says it", () => {
  const half = new Uint8ClampedArray([0, 0, 0, 255, 0, 0, 0, 0]);
  assert.equal(brush.meanAlpha(half), 0.5);
  assert.equal(brush.percent(0), "0 %");
  assert.equal(brush.percent(0.001), "less than 1 %");
  assert.equal(brush.percent(0.42), "42 %");
  assert.equal(brush.percent(0.999), "more than 99 %");
  assert.equal(brush.percent(1), "100 %");
  assert.equal(brush.coverageText(0.42, true), "42 % of the image will change");
  assert.equal(brush.coverageText(0, true), "Nothing painted: applying removes the mask.");
  assert.match(brush.coverageText(0, false), /^Paint over what should change/);
});
