from django.contrib import admin

from playground.api.models import AllowedFetchHost, ApiTask


@admin.register(AllowedFetchHost)
class AllowedFetchHostAdmin(admin.ModelAdmin):
    list_display = ["host", "note", "created_at"]
    search_fields = ["host", "note"]


@admin.register(ApiTask)
class ApiTaskAdmin(admin.ModelAdmin):
    list_display = ["task_id", "generation", "api_key", "created_at"]
    search_fields = ["task_id"]
    raw_id_fields = ["generation", "api_key"]
    readonly_fields = ["task_id", "generation", "api_key", "callback_url", "param", "base_url"]

    def has_add_permission(self, request: object) -> bool:
        return False
