import re
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from playground.catalog.alias_form import ModelAliasAdminForm
from playground.catalog.forms import (
    IDENTITY_FIELDS,
    PARAMETER_FIELDS,
    PRICE_FIELDS,
    ImageModelAdminForm,
)
from playground.catalog.models import ImageModel, ModelAlias
from playground.pricing.estimate import EstimateInput, estimate_request, usd

# A family is the name up to the major version: gpt-image-1.5 and gpt-image-1-mini are
# gpt-image-1; gpt-image-2-2026-04-21 and gpt-image-2.5-flare are gpt-image-2.
FAMILY = re.compile(r"^(.*?-\d+)(?=$|[.-])")


def family_of(model_id: str) -> str:
    match = FAMILY.match(model_id)
    return match.group(1) if match else model_id


class FamilyFilter(admin.SimpleListFilter):
    title = "family"
    parameter_name = "family"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = ImageModel.objects.values_list("model_id", flat=True)
        return [(name, name) for name in sorted({family_of(i) for i in ids})]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        family = self.value()
        if not family:
            return queryset
        return queryset.filter(
            Q(model_id=family)
            | Q(model_id__startswith=f"{family}-")
            | Q(model_id__startswith=f"{family}.")
        )


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
    list_filter = ["status", FamilyFilter, "supports_edits", "supports_streaming"]
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


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    form = ModelAliasAdminForm
    list_display = ["alias", "image_model", "references", "aspect_ratio_list", "resolution_list"]
    list_filter = ["references", "image_model"]
    list_select_related = ["image_model"]
    search_fields = ["alias", "image_model__model_id"]
    fieldsets = [
        (None, {"fields": ["alias", "image_model", "references"]}),
        (
            "Sizes",
            {
                "fields": ["sizes", "default_aspect_ratio", "default_resolution"],
                "description": "The task API's aspect_ratio and resolution pick a size from "
                "this table; a pair that is not in it is refused.",
            },
        ),
        ("Quality", {"fields": ["qualities", "default_quality"]}),
    ]

    @admin.display(description="Aspect ratios")
    def aspect_ratio_list(self, obj: ModelAlias) -> str:
        return ", ".join(obj.aspect_ratios)

    @admin.display(description="Resolutions")
    def resolution_list(self, obj: ModelAlias) -> str:
        return ", ".join(obj.resolutions)
