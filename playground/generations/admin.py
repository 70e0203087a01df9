from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from playground.generations.models import Generation
from playground.pricing.estimate import usd


class ModelFilter(admin.SimpleListFilter):
    """The model names jobs actually used: a retired or removed catalog entry still shows."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = Generation.objects.order_by("model").values_list("model", flat=True).distinct()
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(model=self.value())
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    """Jobs a user deleted stay for the spend records; the admin sees them on demand."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "not deleted"), ("yes", "deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "owner",
        "model",
        "operation",
        "state",
        "provider",
        "estimated",
        "actual",
        "created_at",
        "upstream_seconds",
        "attempts",
        "is_deleted",
    ]
    list_filter = [
        "state",
        "operation",
        ModelFilter,
        "provider",
        ("owner", admin.RelatedOnlyFieldListFilter),
        DeletedFilter,
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["prompt", "owner__username"]
    # Every field is read-only: a job's cost, usage and timing are records, not settings.
    readonly_fields = [f.name for f in Generation._meta.fields]
    list_select_related = ["owner", "provider"]
    show_full_result_count = False  # a second COUNT over a large table buys little

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the playground, never typed in by hand

    @admin.display(description="estimated", ordering="estimated_usd_high")
    def estimated(self, obj: Generation) -> str:
        low, high = obj.estimated_usd_low, obj.estimated_usd_high
        if high is None:
            return "—"
        if low is None or low == high:
            return usd(high)
        return f"{usd(low)} to {usd(high)}"

    @admin.display(description="actual", ordering="actual_usd")
    def actual(self, obj: Generation) -> str:
        return "—" if obj.actual_usd is None else usd(obj.actual_usd)

    @admin.display(description="deleted", boolean=True, ordering="deleted_at")
    def is_deleted(self, obj: Generation) -> bool:
        return obj.deleted_at is not None
