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


class ModelAlias(models.Model):
    """Another API's model id standing for a catalog model: Kie.ai's ids in the task API.

    `sizes` maps each aspect ratio the alias offers to its resolutions and the size each pair
    asks of the catalog model, {"16:9": {"1K": "1280x720", "2K": "2560x1440"}}: a pair that is
    not there is not offered. `references` says whether `input_urls` is required (image to
    image) or refused (text to image). Admin-editable; seeded from kie_models.json.
    """

    class References(models.TextChoices):
        REFUSED = "refused", "refused (text to image)"
        REQUIRED = "required", "required (image to image)"

    alias = models.CharField("model id", max_length=100, unique=True)
    image_model = models.ForeignKey(
        ImageModel,
        on_delete=models.CASCADE,
        related_name="aliases",
        help_text="The catalog model that makes the images.",
    )
    references = models.CharField(
        "reference images (input_urls)", max_length=10, choices=References.choices
    )
    sizes = models.JSONField(
        default=dict,
        help_text='Size per aspect ratio and resolution: {"16:9": {"1K": "1280x720"}, '
        '"auto": {"1K": "auto"}}. Every size must be one the catalog model takes.',
    )
    default_aspect_ratio = models.CharField(max_length=10)
    default_resolution = models.CharField(max_length=10, default="1K")
    qualities = models.JSONField(
        default=list,
        blank=True,
        help_text="The quality values offered; empty: those of the catalog model.",
    )
    default_quality = models.CharField(
        max_length=20, blank=True, help_text="Empty: the catalog model's default."
    )

    class Meta:
        ordering = ["alias"]
        verbose_name = "model alias"
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return self.alias

    @property
    def aspect_ratios(self) -> list[str]:
        return list(self.sizes)

    @property
    def resolutions(self) -> list[str]:
        """Every resolution offered with some aspect ratio, in the order first listed."""
        return list(dict.fromkeys(res for row in self.sizes.values() for res in row))

    def size_for(self, aspect_ratio: str, resolution: str) -> str | None:
        """The size asked of the catalog model for the pair, or None when it is not offered."""
        row = self.sizes.get(aspect_ratio)
        return row.get(resolution) if isinstance(row, dict) else None

    def offered_qualities(self) -> list[str]:
        return list(self.qualities or self.image_model.qualities)

    def spec(self) -> dict[str, Any]:
        """What a request with this id may say, as the API documentation lists it."""
        return {
            "model": self.image_model.model_id,
            "input_urls": self.references,
            "aspect_ratios": self.aspect_ratios,
            "resolutions": self.resolutions,
            "sizes": self.sizes,
            "default_aspect_ratio": self.default_aspect_ratio,
            "default_resolution": self.default_resolution,
            "qualities": self.offered_qualities(),
            "default_quality": self.default_quality or self.image_model.default_quality,
        }


def find_alias(model_id: str) -> ModelAlias | None:
    """The alias with that id (its catalog model loaded), or None."""
    return ModelAlias.objects.select_related("image_model").filter(alias=model_id).first()
