from django.contrib import admin

from playground.gallery.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "generation", "format", "width", "height", "created_at"]
    list_filter = ["format"]
    readonly_fields = [f.name for f in Image._meta.fields]
    list_select_related = ["owner", "generation"]
