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
        constraints = [
            # Exactly one provider serves jobs by default: the database enforces it.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="providers_single_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        """The plain key ("" when none); raises secrets.KeyUnreadable, never hides it."""
        return secrets.decrypt(self.api_key_encrypted)

    @property
    def key_unreadable(self) -> bool:
        try:
            secrets.decrypt(self.api_key_encrypted)
        except secrets.KeyUnreadable:
            return True
        return False

    def set_api_key(self, plain: str) -> None:
        self.api_key_encrypted = secrets.encrypt(plain)

    @property
    def masked_key(self) -> str:
        try:
            return secrets.mask(self.api_key)
        except secrets.KeyUnreadable:
            return "(cannot be decrypted: enter it again)"

    @property
    def is_offline(self) -> bool:
        return self.kind == self.Kind.OFFLINE
