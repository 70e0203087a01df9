from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from playground.sharing.models import SharedImage, ShareLink


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return list(ShareLink.State.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == ShareLink.State.ACTIVE:
            return queryset.active()
        if self.value() == ShareLink.State.EXPIRED:
            return queryset.expired()
        if self.value() == ShareLink.State.REVOKED:
            return queryset.revoked()
        return queryset


class SharedImageInline(admin.TabularInline):
    model = SharedImage
    fields = ["position", "image"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "owner",
        "image_count",
        "state_label",
        "show_details",
        "view_count",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [StateFilter, "show_details", "created_at"]
    search_fields = ["owner__username", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "token", "created_at", "view_count", "revoked_at"]
    fields = ["owner", "token", "show_details", "expires_at", "created_at", "revoked_at"]
    inlines = [SharedImageInline]
    actions = ["revoke_links"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(image_total=Count("items"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # links are made by their owners, who choose their own images

    @admin.display(description="images", ordering="image_total")
    def image_count(self, link: ShareLink) -> int:
        return link.image_total  # type: ignore[attr-defined]

    @admin.display(description="state")
    def state_label(self, link: ShareLink) -> str:
        return link.state().label

    @admin.action(description="Revoke the selected links")
    def revoke_links(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        revoked = ShareLink.objects.filter(pk__in=selected, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        self.message_user(request, f"Revoked {revoked} link(s).", messages.SUCCESS)
