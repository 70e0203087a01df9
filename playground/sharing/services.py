"""Creating share links: the one place that decides what may be shared."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from playground.gallery.models import Image
from playground.sharing.models import SharedImage, ShareLink

MAX_IMAGES = 200


class ShareRefused(ValueError):
    """The link was not created; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def create_share(
    owner: Any, images: list[Image], expires_at: datetime | None, show_details: bool
) -> ShareLink:
    """A new link to `images`, in this order, all of which must belong to `owner`.

    Raises ShareRefused (a ValueError) for an empty selection, too many images, an image of
    someone else (or one deleted meanwhile), or an expiry in the past; nothing is stored then.
    """
    ordered = list(dict.fromkeys(image.pk for image in images))  # a repeat counts once
    if not ordered:
        raise ShareRefused("image", "Choose at least one image to share.")
    if len(ordered) > MAX_IMAGES:
        raise ShareRefused("image", f"A link holds at most {MAX_IMAGES} images.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ShareRefused("expires_at", "The expiry must be in the future.")
    with transaction.atomic():
        # Checked against the database, not the objects passed in: they may be stale.
        owned = Image.objects.for_user(owner).filter(pk__in=ordered).count()
        if owned != len(ordered):
            raise ShareRefused("image", "Only your own images can be shared.")
        link = ShareLink.objects.create(
            owner=owner, expires_at=expires_at, show_details=show_details
        )
        SharedImage.objects.bulk_create(
            SharedImage(share=link, image_id=pk, position=position)
            for position, pk in enumerate(ordered, start=1)
        )
    return link
