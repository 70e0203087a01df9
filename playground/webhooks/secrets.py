"""Each user's webhook secret: made or rotated on request, shown once, read back only to sign."""

import base64
import hashlib
import hmac
import secrets
from typing import Any

from playground.providers import secrets as encryption
from playground.webhooks.models import WebhookSecret

SECRET_PREFIX = "whsec_"


def has_webhook_secret(owner: Any) -> bool:
    return WebhookSecret.objects.filter(owner=owner).exists()


def new_webhook_secret(owner: Any) -> str:
    """Make (or replace) `owner`'s secret; the caller shows it once and forgets it."""
    plain = SECRET_PREFIX + secrets.token_urlsafe(32)
    WebhookSecret.objects.update_or_create(
        owner=owner, defaults={"secret_encrypted": encryption.encrypt(plain)}
    )
    return plain


def webhook_secret_of(owner_id: int) -> str | None:
    """The plain secret to sign with, None when the owner has none. Raises KeyUnreadable."""
    stored = WebhookSecret.objects.filter(owner_id=owner_id).first()
    return encryption.decrypt(stored.secret_encrypted) if stored else None


def signature(secret: str, task_id: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(taskId + "." + timestamp)), as X-Webhook-Signature carries it."""
    message = f"{task_id}.{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
