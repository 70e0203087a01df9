"""API keys for people and programs: stored as a keyed hash, shown once, revocable, capped."""

import hashlib
import hmac
import ipaddress
import re
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

KEY_PREFIX = "pk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # what is kept in clear and shown: "pk_" and 8 characters
_PEPPER_SALT = b"playground.apikeys.pepper"


def _pepper(secret_key: str) -> bytes:
    """A server-side key for the hash, derived from SECRET_KEY and never stored."""
    return hmac.new(secret_key.encode(), _PEPPER_SALT, hashlib.sha256).digest()


def hash_key(secret: str, secret_key: str | None = None) -> str:
    """HMAC-SHA256 of the whole key. Keys carry 256 random bits, so a slow password hash would
    add nothing against guessing and would cost every API request; the pepper means a copy of
    the database alone cannot even confirm a guess."""
    pepper = _pepper(secret_key if secret_key is not None else settings.SECRET_KEY)
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of an allow-list, one per line or comma-separated; a bad one is named."""
    networks = []
    for item in re.split(r"[\s,]+", text or ""):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValidationError(
                f"“{item}” is not an address or a network in CIDR form "
                "(for example 203.0.113.0/24 or 2001:db8::/32)."
            ) from None
    return networks


def validate_networks(text: str) -> None:
    parse_networks(text)


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


def _money(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, **kwargs)


class ApiKey(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="Empty when made by the create_api_key command.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    cap_usd_per_hour = _money(verbose_name="cap per hour (USD)", help_text="Empty: no cap.")
    cap_usd_per_day = _money(verbose_name="cap per day (USD)", help_text="Empty: no cap.")
    cap_usd_total = _money(verbose_name="cap in total (USD)", help_text="Empty: no cap.")
    allowed_networks = models.TextField(
        blank=True,
        validators=[validate_networks],
        help_text="Addresses or CIDR networks allowed to use the key, one per line or "
        "comma-separated. Empty: any address.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, owner: Any, name: str, created_by: Any = None, **fields: Any
    ) -> tuple["ApiKey", str]:
        """A new saved key and its secret, which the caller shows once and then forgets."""
        key = cls(owner=owner, name=name, created_by=created_by, **fields)
        secret = key.set_secret()
        key.full_clean()
        key.save()
        return key, secret

    def set_secret(self) -> str:
        secret = new_secret()
        self.prefix = secret[:PREFIX_LENGTH]
        self.key_hash = hash_key(secret)
        return secret

    def matches(self, secret: str) -> bool:
        """Whether `secret` is this key, under SECRET_KEY or one of its fallbacks (rotation)."""
        for secret_key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
            if hmac.compare_digest(self.key_hash, hash_key(secret, secret_key)):
                return True
        return False

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self) -> bool:
        """Revoke now; False if it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=self.pk).update(revoked_at=self.revoked_at)
        return True

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return parse_networks(self.allowed_networks)

    def allows(self, address: str | None) -> bool:
        networks = self.networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in networks)

    def caps(self) -> dict[str, Decimal | None]:
        return {
            "hour": self.cap_usd_per_hour,
            "day": self.cap_usd_per_day,
            "total": self.cap_usd_total,
        }

    def clean(self) -> None:
        for field, cap in [
            ("cap_usd_per_hour", self.cap_usd_per_hour),
            ("cap_usd_per_day", self.cap_usd_per_day),
            ("cap_usd_total", self.cap_usd_total),
        ]:
            if cap is not None and cap < 0:
                raise ValidationError({field: "A cap cannot be negative; leave it empty for none."})
