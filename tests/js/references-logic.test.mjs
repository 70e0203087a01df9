// Rules of the reference tray without a page: node --test tests/js/
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  MAX_BYTES,
  chipKeyAction,
  chipLabel,
  clampIndex,
  countText,
  dropSlot,
  hasGalleryImage,
  imageType,
  movedMessage,
  orderValue,
  parseMax,
  referenceName,
  referenceSizes,
  removeLabel,
  screenFiles,
} from "../../static/js/references/logic.js";

const file = (name, type, size = 10) => ({ name, type, size });

describe("imageType", () => {
  it("accepts PNG, JPEG and WebP by their type", () => {
    assert.equal(imageType(file("a.png", "image/png")), "image/png");
    assert.equal(imageType(file("a", "IMAGE/JPEG")), "image/jpeg");
    assert.equal(imageType(file("a", "image/webp")), "image/webp");
  });
  it("maps the old JPEG types", () => {
    assert.equal(imageType(file("a", "image/jpg")), "image/jpeg");
    assert.equal(imageType(file("a", "image/pjpeg")), "image/jpeg");
  });
  it("falls back to the extension when the browser gave no type", () => {
    assert.equal(imageType(file("photo.JFIF", "")), "image/jpeg");
    assert.equal(imageType(file("shot.webp", "application/octet-stream")), "image/webp");
    assert.equal(imageType(file("notes", "")), null);
  });
  it("refuses other types even with an image extension", () => {
    assert.equal(imageType(file("anim.gif", "image/gif")), null);
    assert.equal(imageType(file("fake.png", "text/plain")), null);
  });
});

describe("referenceName", () => {
  it("numbers generic pasted names and nameless pastes", () => {
    let n = 0;
    const next = () => ++n;
    assert.equal(referenceName("image.png", "image/png", "paste", next), "pasted-1.png");
    assert.equal(referenceName("", "image/jpeg", "paste", next), "pasted-2.jpg");
    assert.equal(referenceName("Image.JPEG", "image/webp", "paste", next), "pasted-3.webp");
  });
  it("keeps real names and only names nameless files otherwise", () => {
    const never = () => assert.fail("no paste number needed");
    assert.equal(referenceName("image.png", "image/png", "drop", never), "image.png");
    assert.equal(referenceName("sunset.png", "image/png", "paste", never), "sunset.png");
    assert.equal(referenceName("", "image/jpeg", "picker", never), "image.jpg");
  });
});

describe("screenFiles", () => {
  it("explains every refused file by name", () => {
    const { accepted, problems } = screenFiles(
      [
        file("doc.pdf", "application/pdf"),
        file("empty.png", "image/png", 0),
        file("huge.png", "image/png", MAX_BYTES + 1),
        file("ok.png", "image/png", MAX_BYTES),
        { name: "", type: "text/html", size: 3 },
      ],
      16,
      16,
    );
    const names = accepted.map((entry) => [entry.file.name, entry.type]);
    assert.deepEqual(names, [["ok.png", "image/png"]]);
    assert.deepEqual(problems, [
      "doc.pdf: only PNG, JPEG or WebP images",
      "empty.png: the file is empty",
      "huge.png: larger than 50 MB",
      "Pasted item: only PNG, JPEG or WebP images",
    ]);
  });
  it("keeps what fits and says how many were ignored", () => {
    const files = ["a", "b", "c"].map((name) => file(name + ".png", "image/png"));
    assert.deepEqual(screenFiles(files, 1, 16).problems, [
      "At most 16 reference images: 2 images were ignored.",
    ]);
    assert.equal(screenFiles(files, 1, 16).accepted.length, 1);
    assert.deepEqual(screenFiles(files, 2, 4).problems, [
      "At most 4 reference images: 1 image was ignored.",
    ]);
    assert.equal(screenFiles(files, -3, 4).accepted.length, 0);
  });
});

describe("parseMax", () => {
  it("reads a positive limit and defaults to 16", () => {
    assert.equal(parseMax("4"), 4);
    assert.equal(parseMax(""), 16);
    assert.equal(parseMax("0"), 16);
    assert.equal(parseMax(undefined), 16);
  });
});

describe("form values", () => {
  const items = [
    { kind: "upload", width: 640, height: 480 },
    { kind: "gallery", id: "12", width: null, height: null },
    { kind: "upload" },
  ];
  it("describes the order of uploads and gallery images", () => {
    assert.equal(orderValue(items), "upload,gallery:12,upload");
    assert.equal(orderValue([]), "");
  });
  it("sends 0x0 for sizes not measured yet", () => {
    assert.equal(referenceSizes(items), "640x480,0x0,0x0");
  });
  it("finds a gallery image already present, whatever the id's type", () => {
    assert.equal(hasGalleryImage(items, 12), true);
    assert.equal(hasGalleryImage(items, "13"), false);
    assert.equal(hasGalleryImage([{ kind: "upload", id: "12" }], "12"), false);
  });
});

describe("texts", () => {
  it("counts references against the limit", () => {
    assert.equal(countText(0, 16), "");
    assert.equal(countText(2, 16), "2 of 16 reference images · sent to the edits endpoint");
    assert.equal(countText(1, 1), "1 of 1 reference image · sent to the edits endpoint");
  });
  it("labels chips with position, name, size and the mask", () => {
    assert.equal(
      chipLabel(0, 2, "room.png", "640", "480"),
      "Reference 1 of 2: room.png, 640×480, the mask applies to this image. " +
        "Alt+Arrow keys move it, Delete removes it.",
    );
    assert.equal(
      chipLabel(1, 2, "chair.png", undefined, undefined),
      "Reference 2 of 2: chair.png. Alt+Arrow keys move it, Delete removes it.",
    );
  });
  it("names each remove button after its image", () => {
    assert.equal(removeLabel(1, "sunset.png"), "Remove reference 2: sunset.png");
  });
  it("announces moves, and the mask for the first place", () => {
    assert.equal(
      movedMessage("a.png", 0, 3),
      "a.png moved to position 1 of 3; the mask applies to it.",
    );
    assert.equal(movedMessage("a.png", 2, 3), "a.png moved to position 3 of 3.");
  });
});

describe("chipKeyAction", () => {
  const key = (name, modifiers = {}) => ({
    key: name,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    ...modifiers,
  });
  it("moves the focus with arrows, Home and End, within the list", () => {
    assert.deepEqual(chipKeyAction(key("ArrowRight"), 0, 3), { focus: 1 });
    assert.deepEqual(chipKeyAction(key("ArrowUp"), 2, 3), { focus: 1 });
    assert.deepEqual(chipKeyAction(key("End"), 0, 3), { focus: 2 });
    assert.deepEqual(chipKeyAction(key("Home"), 2, 3), { focus: 0 });
    assert.equal(chipKeyAction(key("ArrowLeft"), 0, 3), null);
    assert.equal(chipKeyAction(key("ArrowDown"), 2, 3), null);
  });
  it("moves the chip with Alt", () => {
    assert.deepEqual(chipKeyAction(key("ArrowLeft", { altKey: true }), 1, 3), { move: 0 });
    assert.deepEqual(chipKeyAction(key("End", { altKey: true }), 0, 3), { move: 2 });
    assert.equal(chipKeyAction(key("Delete", { altKey: true }), 0, 3), null);
  });
  it("removes with Delete or Backspace and leaves other shortcuts alone", () => {
    assert.deepEqual(chipKeyAction(key("Delete"), 0, 1), { remove: true });
    assert.deepEqual(chipKeyAction(key("Backspace"), 0, 1), { remove: true });
    assert.equal(chipKeyAction(key("ArrowLeft", { ctrlKey: true }), 1, 3), null);
    assert.equal(chipKeyAction(key("a"), 1, 3), null);
  });
});

describe("positions", () => {
  it("clamps a target index to the list", () => {
    assert.equal(clampIndex(-1, 3), 0);
    assert.equal(clampIndex(5, 3), 2);
    assert.equal(clampIndex(1, 3), 1);
  });
  // Three 72 px chips in a row, 10 px apart, in a list from x=0 to 400.
  const boxes = [0, 82, 164].map((left) => ({ left, top: 0, width: 72, height: 72 }));
  const list = { left: 0, top: 0, width: 400, height: 72 };
  it("drops before a chip, or after it past its middle", () => {
    assert.equal(dropSlot(83, 10, boxes, 0, list), -1); // before its neighbour: no move
    assert.equal(dropSlot(119, 10, boxes, 0, list), 2);
    assert.equal(dropSlot(118, 10, boxes, 0, list), -1);
    assert.equal(dropSlot(170, 10, boxes, 0, list), 2);
    assert.equal(dropSlot(201, 10, boxes, 0, list), 3);
    assert.equal(dropSlot(10, 10, boxes, 2, list), 0);
  });
  it("stays put over itself, the gaps between chips and outside the list", () => {
    assert.equal(dropSlot(100, 30, boxes, 1, list), -1);
    assert.equal(dropSlot(140, 30, boxes, 1, list), -1);
    assert.equal(dropSlot(77, 30, boxes, 0, list), -1);
    assert.equal(dropSlot(159, 30, boxes, 0, list), -1);
    assert.equal(dropSlot(500, 30, boxes, 0, list), -1);
  });
  it("goes to the end past the last chip inside the list", () => {
    assert.equal(dropSlot(300, 30, boxes, 0, list), 3);
    assert.equal(dropSlot(300, 30, boxes, 2, list), -1);
  });
});
