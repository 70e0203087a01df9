import uuid
from typing import Any

from django.conf import settings
from django.db import models

from playground.generations.models import Generation

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
THUMBNAIL_EDGE = 320  # the grid thumbnail's longer edge, in pixels
THUMBNAIL_2X_EDGE = 512  # the same for high-density screens


def original_path(instance: "Image", filename: str) -> str:
    return f"images/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}.{instance.format}"


def thumbnail_path(instance: "Image", filename: str) -> str:
    return f"thumbs/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}.webp"


def display_path(instance: "Image", filename: str) -> str:
    suffix = ".jpg" if filename.endswith(".jpg") else ".webp"
    return f"display/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def fitted_size(width: int, height: int, edge: int) -> tuple[int, int]:
    """The size of a picture fitted within edge x edge (never enlarged), as Pillow makes it."""
    scale = min(1.0, edge / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


class ImageQuerySet(models.QuerySet["Image"]):
    def for_user(self, user: Any) -> "ImageQuerySet":
        return self.filter(owner=user)


class Image(models.Model):
    """One image as the upstream returned it (bytes untouched) with a WebP thumbnail."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images"
    )
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=original_path)
    thumbnail = models.FileField(upload_to=thumbnail_path)
    thumbnail_2x = models.FileField(
        upload_to=thumbnail_path,
        blank=True,
        help_text="A larger WebP thumbnail for dense screens (empty for images stored before).",
    )
    display = models.FileField(
        upload_to=display_path,
        blank=True,
        help_text="A JPEG (WebP when transparent) fitted for showing the image large; the "
        "original stays untouched.",
    )
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    revised_prompt = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    favourite = models.BooleanField(default=False)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "index", "-id"]
        # The gallery pages through an owner's images by keyset on exactly this order (see
        # gallery/pages.py), so a deep page is an index range scan like the first one.
        indexes = [
            models.Index(
                fields=["owner", "-created_at", "index", "-id"], name="gallery_image_owner_order"
            ),
            models.Index(
                fields=["owner", "-created_at", "index", "-id"],
                condition=models.Q(favourite=True),
                name="gallery_image_owner_favourites",
            ),
        ]

    def __str__(self) -> str:
        return f"image {self.pk} of generation {self.generation_id}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")

    @property
    def thumbnail_size(self) -> tuple[int, int]:
        """Width and height of the grid thumbnail, for the page's layout before it loads."""
        return fitted_size(self.width, self.height, THUMBNAIL_EDGE)

    @property
    def thumbnail_2x_size(self) -> tuple[int, int]:
        return fitted_size(self.width, self.height, THUMBNAIL_2X_EDGE)

    @property
    def download_name(self) -> str:
        extension = "jpg" if self.format == "jpeg" else self.format
        return f"image-{self.generation_id}-{self.index + 1}.{extension}"
