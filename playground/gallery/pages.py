"""Keyset pagination of the gallery: a page starts after (or ends before) a cursor, never at
an OFFSET, so page 400 reads 25 rows of an index range like page 1 does.

A cursor is the sort key of an image, (created_at, index, id), written as
`<microseconds since the epoch>-<index>-<id>` in ASCII digits. It needs no row to exist: a
cursor whose image was deleted meanwhile still marks the same place in the order.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

from playground.gallery.models import Image, ImageQuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,5})-([0-9]{1,19})")
MAX_ID = 2**63 - 1

# (field, descending) from the first sort key to the tie-breakers. "oldest" is the exact
# reverse of "newest", so both read the same index (owner, -created_at, index, -id), forwards
# or backwards.
ORDERS = {
    "newest": (("created_at", True), ("index", False), ("id", True)),
    "oldest": (("created_at", False), ("index", True), ("id", False)),
}


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    index: int
    pk: int

    @classmethod
    def of(cls, image: Image) -> "Cursor":
        return cls(image.created_at, image.index, image.pk)

    def __str__(self) -> str:
        micros = (self.created_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.index}-{self.pk}"

    def values(self) -> dict[str, object]:
        return {"created_at": self.created_at, "index": self.index, "id": self.pk}


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor written in `text`, or None when it is not one (hostile, garbled, too big)."""
    match = _CURSOR.fullmatch(text or "")
    if match is None:
        return None
    micros, index, pk = (int(part) for part in match.groups())
    if index > 32767 or not 1 <= pk <= MAX_ID:
        return None
    try:
        created_at = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None
    return Cursor(created_at, index, pk)


def _beyond(cursor: Cursor, order: tuple[tuple[str, bool], ...]) -> Q:
    """Rows strictly after `cursor` in `order`.

    The first key's bound (created_at <= c) stands alone as well, so the database scans the
    index from the cursor's place instead of testing the OR on every row before it.
    """
    values = cursor.values()
    first, first_descending = order[0]
    condition = Q(**{f"{first}__{'lte' if first_descending else 'gte'}": values[first]})
    beyond = Q()
    for position, (name, descending) in enumerate(order):
        equal = {previous: values[previous] for previous, _ in order[:position]}
        step = Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[name]})
        beyond |= step
    return condition & beyond


def _order_by(order: tuple[tuple[str, bool], ...]) -> list[str]:
    return [("-" if descending else "") + name for name, descending in order]


@dataclass
class Page:
    images: list[Image]
    previous: Cursor | None  # the first image, when a page comes before this one
    following: Cursor | None  # the last image, when a page comes after this one


def keyset_page(
    images: ImageQuerySet,
    sort: str,
    size: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    """One page of `images`: the first, the one after `after`, or the one before `before`.

    One query, or two when a `before` page turns out to be the first and is topped up.
    """
    order = ORDERS[sort]
    if before is not None:
        backwards = tuple((name, not descending) for name, descending in order)
        earlier = images.filter(_beyond(before, backwards))
        rows = list(earlier.order_by(*_order_by(backwards))[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        if len(rows) < size:
            # Fewer than a page before the cursor (images deleted, or a hand-made cursor):
            # it is the first page, topped up to a whole one.
            return keyset_page(images, sort, size)
        # The cursor's own image, after these, is on the next page as far as we know.
        return Page(rows, Cursor.of(rows[0]) if more_before else None, Cursor.of(rows[-1]))
    if after is not None:
        images = images.filter(_beyond(after, order))
    rows = list(images.order_by(*_order_by(order))[: size + 1])
    following = Cursor.of(rows[size - 1]) if len(rows) > size else None
    # A page after a cursor has one before it (the cursor's own) as far as we know.
    previous = Cursor.of(rows[0]) if after is not None and rows else None
    return Page(rows[:size], previous, following)
