from decimal import Decimal
from typing import Any

from django.db import models

from playground.catalog import tokens


class ImageModelQuerySet(models.QuerySet["ImageModel"]):
    def active(self) -> "ImageModelQuerySet":
        return self.filter(status=ImageModel.Status.ACTIVE)


class ImageModel(models.Model):
    """One model id of the Images API and the parameters and prices it takes (admin-editable)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        RETIRED = "retired"

    model_id = models.CharField(max_length=100, unique=True)
    label = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    sort_order = models.PositiveIntegerField(default=100)
    sizes = models.JSONField(default=list, help_text='Preset sizes such as "1024x1024" and "auto".')
    free_size = models.JSONField(
        null=True,
        blank=True,
        help_text="Rules for any W x H (multiple, max_edge, min_pixels, max_pixels, max_aspect), "
        "or empty when only the preset sizes are allowed.",
    )
    qualities = models.JSONField(default=list)
    output_formats = models.JSONField(default=list)
    backgrounds = models.JSONField(default=list)
    input_fidelities = models.JSONField(default=list, blank=True)
    moderations = models.JSONField(default=list)
    supports_streaming = models.BooleanField(default=True)
    supports_edits = models.BooleanField(default=True)
    max_n = models.PositiveSmallIntegerField(default=10)
    default_size = models.CharField(max_length=20, default="1024x1024")
    default_quality = models.CharField(max_length=20, default="medium")
    price_text_in = models.DecimalField(
        "text input, USD per 1M tokens", max_digits=10, decimal_places=4, default=Decimal(0)
    )
    price_image_in = models.DecimalField(
        "image input, USD per 1M tokens", max_digits=10, decimal_places=4, default=Decimal(0)
    )
    price_image_out = models.DecimalField(
        "image output, USD per 1M tokens", max_digits=10, decimal_places=4, default=Decimal(0)
    )
    output_rule = models.JSONField(
        default=dict, help_text="Output tokens per image: a quality x size table or a formula."
    )

    objects = ImageModelQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "model_id"]

    def __str__(self) -> str:
        return self.model_id

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def size_error(self, size: str) -> str | None:
        """Why this model does not take `size`, or None when it does."""
        if size in self.sizes:
            return None
        if not self.free_size:
            return f"{self.model_id} takes only these sizes: {', '.join(self.sizes)}."
        return free_size_error(self.free_size, size)

    def spec(self) -> dict[str, Any]:
        """The parameters this model takes, as the browser's form needs them."""
        return {
            "sizes": self.sizes,
            "free_size": bool(self.free_size),
            "qualities": self.qualities,
            "output_formats": self.output_formats,
            "backgrounds": self.backgrounds,
            "moderations": self.moderations,
            "supports_streaming": self.supports_streaming,
            "max_n": self.max_n,
        }


def free_size_error(rule: dict[str, Any], size: str) -> str | None:
    """Why `size` breaks a free-size rule (gpt-image-2 family), or None when it is allowed."""
    try:
        width, height = tokens.parse_size(size)
    except ValueError:
        return "Use WIDTHxHEIGHT in pixels, for example 1536x1024, or auto."
    multiple = int(rule.get("multiple", 16))
    if width % multiple or height % multiple:
        return f"Both edges must be multiples of {multiple} pixels ({width}x{height} is not)."
    if max(width, height) > int(rule.get("max_edge", 3840)):
        return f"The longest edge can be at most {rule.get('max_edge', 3840)} pixels."
    max_aspect = float(rule.get("max_aspect", 3))
    if max(width, height) > max_aspect * min(width, height):
        return f"The aspect ratio must be between 1:{max_aspect:g} and {max_aspect:g}:1."
    pixels = width * height
    low, high = int(rule.get("min_pixels", 0)), int(rule.get("max_pixels", 10**9))
    if not low <= pixels <= high:
        return f"The total pixels must be between {low:,} and {high:,} ({pixels:,} given)."
    return None
