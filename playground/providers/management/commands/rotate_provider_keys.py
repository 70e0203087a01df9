"""Re-encrypt every provider key with the current SECRET_KEY (after a SECRET_KEY rotation)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from playground.audit.log import record
from playground.audit.models import AuditEvent
from playground.providers import secrets
from playground.providers.models import Provider


class Command(BaseCommand):
    help = (
        "Re-encrypt provider keys with the current SECRET_KEY, reading them with it or "
        "SECRET_KEY_FALLBACKS. Run after rotating SECRET_KEY, before removing the fallback."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        unreadable: list[str] = []
        for provider in Provider.objects.exclude(api_key_encrypted="").order_by("name"):
            try:
                token = secrets.rotate(provider.api_key_encrypted)
            except secrets.KeyUnreadable:
                unreadable.append(provider.name)
                continue
            with transaction.atomic():
                Provider.objects.filter(pk=provider.pk).update(api_key_encrypted=token)
                record(AuditEvent.Action.ROTATED, provider, details={"by": "rotate_provider_keys"})
            rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} provider key{'s' if rotated != 1 else ''}.")
        for name in unreadable:
            self.stderr.write(
                f"The key of provider '{name}' cannot be decrypted: enter it again in the admin."
            )
