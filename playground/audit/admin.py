from django.contrib import admin
from django.http import HttpRequest

from playground.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Visible and filterable; never added, changed or deleted here."""

    list_display = [
        "created_at",
        "actor_name",
        "action",
        "target_type",
        "target_label",
        "ip_address",
    ]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_name", "target_label", "ip_address"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
