from django.contrib import admin

from playground.generations.models import Generation


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "model", "operation", "state", "attempts", "created_at"]
    list_filter = ["state", "model", "operation"]
    search_fields = ["prompt", "owner__username"]
    readonly_fields = [f.name for f in Generation._meta.fields]
    list_select_related = ["owner"]
