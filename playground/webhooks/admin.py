from typing import Any

from django.contrib import admin

from playground.webhooks.models import CallbackAttempt, CallbackDelivery, WebhookSecret


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes: looked at, never changed by hand."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["task", "owner", "state", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["state"]
    search_fields = ["task__task_id", "owner__username"]
    raw_id_fields = ["task", "owner"]
    inlines = [CallbackAttemptInline]


@admin.register(CallbackAttempt)
class CallbackAttemptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "number", "started_at", "status_code", "error", "duration_ms"]
    raw_id_fields = ["delivery"]


@admin.register(WebhookSecret)
class WebhookSecretAdmin(ReadOnlyAdmin):
    """Who has a secret and since when; the secret itself is never shown."""

    list_display = ["owner", "created_at"]
    fields = ["owner", "created_at"]
    readonly_fields = fields
