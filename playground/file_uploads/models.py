"""Files uploaded through the File Upload API: private to their owner, deleted after 3 days.

A file's address (`downloadUrl`) carries a random token; the bytes are served, and the address
taken as a reference of a task, only for the owner's API keys. The stored file has a random
name of its own, unrelated to the token or to the name the program gave.
"""

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from playground.core.stored_files import remove_after_commit, stored_files

KEPT_FOR = timedelta(days=3)
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 192 random bits
MAX_NAME = 200
MAX_UPLOAD_PATH = 200
NOT_YOURS = "the URL names no file of yours (uploaded files are deleted after 3 days)."


def new_token() -> str:
    return secrets.token_urlsafe(24)


def stored_name(instance: "FileUpload", filename: str) -> str:
    """A random name in the default storage, keeping only the extension of `filename`."""
    extension = filename.rpartition(".")[2].lower()
    return f"uploads/{secrets.token_hex(16)}.{extension}"


class FileUploadQuerySet(models.QuerySet["FileUpload"]):
    def live(self, now: datetime | None = None) -> "FileUploadQuerySet":
        return self.filter(expires_at__gt=now or timezone.now())

    def owned_live(self, owner: Any, token: str) -> "FileUpload | None":
        """The owner's upload a URL's token names, while it is kept; None for anyone else's,
        an expired one, or a token that cannot be one (checked before the database)."""
        if not TOKEN.fullmatch(token):
            return None
        return self.live().filter(owner=owner, token=token).first()

    def expired(self, now: datetime | None = None) -> "FileUploadQuerySet":
        return self.filter(expires_at__lte=now or timezone.now())


class FileUpload(models.Model):
    class Method(models.TextChoices):
        BASE64 = "base64", "Base64"
        STREAM = "stream", "File stream"
        URL = "url", "URL"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="file_uploads"
    )
    api_key = models.ForeignKey(
        "apikeys.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="file_uploads",
        help_text="The key it was uploaded with.",
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    file = models.FileField(upload_to=stored_name, max_length=200)
    file_name = models.CharField(max_length=MAX_NAME)
    upload_path = models.CharField(max_length=MAX_UPLOAD_PATH, blank=True)
    original_name = models.CharField(max_length=MAX_NAME, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    mime_type = models.CharField(max_length=40)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    objects = FileUploadQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = "file upload"

    def __str__(self) -> str:
        return self.file_path

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.expires_at is None:
            self.expires_at = self.uploaded_at + KEPT_FOR
        super().save(*args, **kwargs)

    @property
    def file_path(self) -> str:
        """Where Kie would say the file is: `uploadPath/fileName`."""
        return f"{self.upload_path}/{self.file_name}" if self.upload_path else self.file_name

    def download_path(self) -> str:
        return reverse("file-upload-download", kwargs={"token": self.token, "name": self.file_name})

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(0, int((self.expires_at - (now or timezone.now())).total_seconds()))


@receiver(post_delete, sender=FileUpload)
def _remove_file(sender: type[FileUpload], instance: FileUpload, **kwargs: Any) -> None:
    """However a row goes (expiry, the admin, its owner deleted), its file goes once the
    deletion has committed; deleting a file already gone does nothing."""
    remove_after_commit(stored_files(instance))
