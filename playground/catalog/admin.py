from django.contrib import admin

from playground.catalog.forms import (
    IDENTITY_FIELDS,
    PARAMETER_FIELDS,
    PRICE_FIELDS,
    ImageModelAdminForm,
)
from playground.catalog.models import ImageModel
from playground.pricing.estimate import EstimateInput, estimate_request, usd


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    form = ImageModelAdminForm
    list_display = [
        "model_id",
        "label",
        "status",
        "sort_order",
        "price_text_in",
        "price_image_in",
        "price_image_out",
        "default_image_price",
    ]
    list_editable = ["status", "sort_order"]
    list_filter = ["status"]
    search_fields = ["model_id", "label"]
    fieldsets = [
        ("Identity", {"fields": IDENTITY_FIELDS}),
        ("Parameters", {"fields": PARAMETER_FIELDS}),
        ("Prices (USD per 1M tokens)", {"fields": PRICE_FIELDS}),
        (
            "Output tokens",
            {
                "fields": ["output_rule"],
                "description": 'A table {"kind": "table", "table": {quality: {"WxH": tokens}}} '
                "for preset sizes only, or a formula "
                '{"kind": "formula", "factors": {quality: factor}} for any size. Optional '
                '"per_image_usd": {quality: {"WxH": "0.011"}} holds published per-image '
                "prices that do not follow from the token price.",
            },
        ),
    ]

    @admin.display(description="One image at the defaults")
    def default_image_price(self, obj: ImageModel) -> str:
        """Output-only price of one image at the default quality and size: a sanity check."""
        request = EstimateInput(prompt="", size=obj.default_size, quality=obj.default_quality)
        try:
            low, high = estimate_request(obj, request)
        except (ValueError, KeyError, TypeError, AttributeError):
            return "—"  # a row the form would refuse (edited outside the admin)
        if low.total_usd == high.total_usd:
            return usd(low.total_usd)
        return f"{usd(low.total_usd)} to {usd(high.total_usd)}"
