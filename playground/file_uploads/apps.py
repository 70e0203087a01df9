from django.apps import AppConfig


class FileUploadsConfig(AppConfig):
    name = "playground.file_uploads"
    label = "file_uploads"
    verbose_name = "File uploads"
    default_auto_field = "django.db.models.BigAutoField"
