"""The default provider at start-up: the key from the environment, else the offline stand-in."""

from django.conf import settings

from playground.providers.models import Provider

ENV_PROVIDER_NAME = "OpenAI (from environment)"
OFFLINE_PROVIDER_NAME = "Offline stand-in"


def offline_base_url() -> str:
    return f"http://127.0.0.1:{settings.OFFLINE_API_PORT}/v1"


def ensure_default_provider() -> Provider:
    """Make sure a default provider exists and return it."""
    if settings.OPENAI_API_KEY:
        provider, _ = Provider.objects.get_or_create(name=ENV_PROVIDER_NAME)
        provider.kind = (
            Provider.Kind.COMPATIBLE if settings.OPENAI_BASE_URL else Provider.Kind.OPENAI
        )
        provider.base_url = settings.OPENAI_BASE_URL
        provider.set_api_key(settings.OPENAI_API_KEY)
        provider.is_enabled = True
        _make_default(provider)
        return provider

    configured = Provider.objects.enabled().exclude(kind=Provider.Kind.OFFLINE)
    # A stored key counts even when it cannot be decrypted: that provider is reported as
    # broken (healthz, admin, job errors) rather than silently replaced by the stand-in.
    real = next((p for p in configured if p.api_key_encrypted), None)
    if real is not None:
        if not real.is_default and not configured.filter(is_default=True).exists():
            _make_default(real)
        return Provider.objects.default() or real

    provider, _ = Provider.objects.get_or_create(
        name=OFFLINE_PROVIDER_NAME, defaults={"kind": Provider.Kind.OFFLINE}
    )
    provider.kind = Provider.Kind.OFFLINE
    provider.base_url = offline_base_url()
    provider.set_api_key("offline-demo-key")
    provider.is_enabled = True
    _make_default(provider)
    return provider


def _make_default(provider: Provider) -> None:
    Provider.objects.exclude(pk=provider.pk).filter(is_default=True).update(is_default=False)
    provider.is_default = True
    provider.save()
