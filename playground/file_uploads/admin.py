from django.contrib import admin
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from playground.file_uploads.models import FileUpload


@admin.register(FileUpload)
class FileUploadAdmin(admin.ModelAdmin):
    """Uploads are listed and can be deleted (their files go too); their bytes are never shown
    here, and neither is the token of their address."""

    list_display = ["file_path", "owner", "size", "mime_type", "uploaded_at", "expires_at"]
    list_filter = ["method", "mime_type"]
    search_fields = ["file_name", "upload_path", "owner__username"]
    list_select_related = ["owner"]
    date_hierarchy = "uploaded_at"
    fields = readonly_fields = [
        "owner",
        "api_key",
        "file_path",
        "original_name",
        "method",
        "mime_type",
        "size",
        "width",
        "height",
        "uploaded_at",
        "expires_at",
    ]

    @admin.display(description="size", ordering="byte_size")
    def size(self, upload: FileUpload) -> str:
        return filesizeformat(upload.byte_size)

    @admin.display(description="path", ordering="file_name")
    def file_path(self, upload: FileUpload) -> str:
        return upload.file_path

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
