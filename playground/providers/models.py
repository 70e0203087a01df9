from django.db import models

from playground.providers import secrets


class ProviderQuerySet(models.QuerySet["Provider"]):
    def enabled(self) -> "ProviderQuerySet":
        return self.filter(is_enabled=True)

    def default(self) -> "Provider | None":
        return self.enabled().filter(is_default=True).first() or self.enabled().first()


class Provider(models.Model):
    """Where upstream calls go: an OpenAI-compatible base URL and its key (encrypted at rest)."""

    class Kind(models.TextChoices):
        OPENAI = "openai", "OpenAI"
        AZURE = "azure", "Azure OpenAI"
        COMPATIBLE = "compatible", "OpenAI-compatible"
        OFFLINE = "offline", "Offline stand-in"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OPENAI)
    base_url = models.URLField(blank=True, help_text="Empty for OpenAI's own endpoint.")
    api_key_encrypted = models.TextField(blank=True, editable=False)
    is_default = models.BooleanField(default=False)
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return secrets.decrypt(self.api_key_encrypted)

    def set_api_key(self, plain: str) -> None:
        self.api_key_encrypted = secrets.encrypt(plain)

    @property
    def masked_key(self) -> str:
        return secrets.mask(self.api_key)

    @property
    def is_offline(self) -> bool:
        return self.kind == self.Kind.OFFLINE
