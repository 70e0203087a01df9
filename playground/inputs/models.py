from django.db import models

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def input_path(instance: "InputFile", filename: str) -> str:
    return f"inputs/{instance.sha256[:2]}/{instance.sha256}.{instance.format}"


def thumbnail_path(instance: "InputFile", filename: str) -> str:
    return f"inputs/thumbs/{instance.sha256[:2]}/{instance.sha256}.webp"


class InputFile(models.Model):
    """A reference image or mask sent with an edit, stored once per content (by sha256).

    Rows are shared: the same bytes uploaded by two users are one row, so access must be checked
    through whatever refers to the row, never through the row itself.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to=input_path, max_length=200)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=200)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"input {self.sha256[:12]} ({self.format}, {self.width}x{self.height})"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")
