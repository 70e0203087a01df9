from django.contrib import admin

from playground.catalog.models import ImageModel


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    list_display = [
        "model_id",
        "label",
        "status",
        "price_text_in",
        "price_image_in",
        "price_image_out",
        "sort_order",
    ]
    list_filter = ["status"]
    search_fields = ["model_id", "label"]
