"""Start-up chores of `make run`: an admin account and the default provider."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from playground.providers.bootstrap import ensure_default_provider

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Ensure an admin account and the default provider; print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        self.ensure_admin()
        provider = ensure_default_provider()
        if provider.is_offline:
            self.stdout.write(
                "No OPENAI_API_KEY: offline demo mode, images come from the bundled stand-in "
                f"at {provider.base_url}"
            )
        else:
            self.stdout.write(f"Images come from the provider '{provider.name}'.")
        # The last line says which processes `make run` starts.
        self.stdout.write("offline" if provider.is_offline else "online")

    def ensure_admin(self) -> None:
        users = get_user_model()
        credentials = settings.DATA_DIR / "admin-credentials.txt"
        if not users.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(ADMIN_USERNAME, "", password)
            credentials.write_text(f"username: {ADMIN_USERNAME}\npassword: {password}\n")
            credentials.chmod(0o600)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the admin account. Log in as {ADMIN_USERNAME} / {password}"
                )
            )
        elif credentials.exists():
            self.stdout.write(f"Admin login is in {credentials}")
