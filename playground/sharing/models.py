import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from playground.gallery.models import Image

TOKEN_BYTES = 24  # 192 bits from the OS's CSPRNG; 32 URL-safe characters


def new_token() -> str:
    """A random token: never derived from an id, so links cannot be enumerated."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def for_user(self, user: Any) -> "ShareLinkQuerySet":
        return self.filter(owner=user)

    def active(self, now: datetime | None = None) -> "ShareLinkQuerySet":
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at=None)

    def expired(self, now: datetime | None = None) -> "ShareLinkQuerySet":
        return self.filter(revoked_at=None, expires_at__lte=now or timezone.now())

    def revoked(self) -> "ShareLinkQuerySet":
        return self.filter(revoked_at__isnull=False)


class ShareLink(models.Model):
    """A link to one image or an ordered set, for people without an account."""

    class State(models.TextChoices):
        ACTIVE = "active"
        EXPIRED = "expired"
        REVOKED = "revoked"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    images = models.ManyToManyField(Image, through="SharedImage", related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    show_details = models.BooleanField(
        default=False, help_text="Show the prompt and parameters on the public page."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"share link {self.pk} of {self.owner_id}"

    def state(self, now: datetime | None = None) -> "ShareLink.State":
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return self.State.EXPIRED
        return self.State.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.state() == self.State.ACTIVE

    def revoke(self) -> bool:
        """Revoke now; True when this call revoked it (a second call changes nothing)."""
        now = timezone.now()
        changed = ShareLink.objects.filter(pk=self.pk, revoked_at=None).update(revoked_at=now)
        self.refresh_from_db(fields=["revoked_at"])
        return bool(changed)


class SharedImage(models.Model):
    """One image of a link at its place in the set; files are addressed by this position."""

    share = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="shared_as")
    position = models.PositiveSmallIntegerField(help_text="1 for the first image of the set.")

    class Meta:
        ordering = ["share", "position"]
        constraints = [
            models.UniqueConstraint(fields=["share", "position"], name="shared_image_position"),
            models.UniqueConstraint(fields=["share", "image"], name="shared_image_once"),
        ]

    def __str__(self) -> str:
        return f"image {self.position} of share link {self.share_id}"
