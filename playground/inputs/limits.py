"""Bounds on the image work one web request may cause.

Decoding is what costs: a PNG of a few kilobytes can hold 40 megapixels. So a request first
weighs all its images by their headers (nothing decoded) against a total pixel budget, then
decodes them one at a time, each decode taking one of a few slots shared by the whole process:
CPU and memory stay bounded however many edits arrive at once, and a request that cannot get a
slot in time is told the server is busy instead of waiting without end. Re-encoding an image
as PNG (a palette, 16-bit, turned or animated image) costs far more per pixel than decoding
it, so it has its own, smaller budget, checked after the decode and before the encode.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from playground.inputs.images import ImageRefused

DEFAULT_REQUEST_MEGAPIXELS = 200
DEFAULT_CONVERTED_MEGAPIXELS = 40
DEFAULT_DECODE_CONCURRENCY = 1
DEFAULT_DECODE_WAIT_SECONDS = 20.0
BUSY = (
    "The server is busy checking other people's images right now; nothing was queued. "
    "Try again in a minute."
)


class DecodersBusy(Exception):
    """No decode slot came free in time; str() is a message for the person."""

    def __init__(self) -> None:
        super().__init__(BUSY)


def request_megapixels() -> int:
    return int(getattr(settings, "EDIT_MAX_REQUEST_MEGAPIXELS", DEFAULT_REQUEST_MEGAPIXELS))


def check_request_pixels(sizes: list[tuple[str, int, int]], megapixels: int | None = None) -> None:
    """Refuse a request whose images (name, width, height) decode to too many pixels in total,
    naming the image that takes the running total past the limit."""
    limit = request_megapixels() if megapixels is None else megapixels
    total = sum(width * height for _, width, height in sizes)
    if total <= limit * 1_000_000:
        return
    running = 0
    for name, width, height in sizes:
        running += width * height
        if running > limit * 1_000_000:
            raise ImageRefused(
                name,
                f"the {len(sizes)} reference images add up to {total / 1_000_000:.1f} "
                f"megapixels, over the limit of {limit} megapixels per edit, and this one "
                f"({width}x{height}) is where they pass it. Use fewer or smaller images",
            )


class ConversionRefused(ImageRefused):
    """An image over the request's conversion budget (the others need not be decoded)."""


def converted_megapixels() -> int:
    return int(
        getattr(settings, "EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS", DEFAULT_CONVERTED_MEGAPIXELS)
    )


class ConversionBudget:
    """The pixels one request's images may be re-encoded losslessly for: a PNG encode costs
    several times a decode (ten on a photo), so an edit may convert far fewer pixels than it
    may decode."""

    def __init__(self, megapixels: int | None = None) -> None:
        self.megapixels = converted_megapixels() if megapixels is None else megapixels
        self.pixels = 0

    def __call__(self, name: str, reason: str, width: int, height: int) -> None:
        """Count one image about to be converted; ConversionRefused when it passes the budget."""
        if self.pixels + width * height > self.megapixels * 1_000_000:
            total = (self.pixels + width * height) / 1_000_000
            raise ConversionRefused(
                name,
                f"it must be converted before it can be sent ({reason}), and one edit may "
                f"convert at most {self.megapixels} megapixels ({total:.1f} with this "
                f"{width}x{height} image). Save it as an 8-bit RGB or RGBA PNG or as a JPEG, "
                "or use fewer such images",
            )
        self.pixels += width * height


_slot_lock = threading.Lock()
_semaphores: dict[int, threading.BoundedSemaphore] = {}


def process_slots(concurrency: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore for this many decodes at once (one per setting value)."""
    with _slot_lock:
        if concurrency not in _semaphores:
            _semaphores[concurrency] = threading.BoundedSemaphore(concurrency)
        return _semaphores[concurrency]


class DecodeSlots:
    """One request's turns at the process's decode slots.

    Each decode holds a slot only while it runs, so concurrent requests interleave; all the
    waits of one request together are bounded by `wait_seconds`.
    """

    def __init__(self, concurrency: int | None = None, wait_seconds: float | None = None) -> None:
        if concurrency is None:
            concurrency = int(
                getattr(settings, "IMAGE_DECODE_CONCURRENCY", DEFAULT_DECODE_CONCURRENCY)
            )
        if wait_seconds is None:
            wait_seconds = float(
                getattr(settings, "IMAGE_DECODE_WAIT_SECONDS", DEFAULT_DECODE_WAIT_SECONDS)
            )
        self.semaphore = process_slots(max(1, concurrency))
        self.deadline = time.monotonic() + max(0.0, wait_seconds)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; DecodersBusy when none comes free before the deadline."""
        if not self.semaphore.acquire(timeout=max(0.0, self.deadline - time.monotonic())):
            raise DecodersBusy
        try:
            yield
        finally:
            self.semaphore.release()
