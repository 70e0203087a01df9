"""Start-up chores of `make run`: an admin account and the default provider."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from playground.accounts.bootstrap import ADMIN_USERNAME, ensure_admin
from playground.providers.bootstrap import ensure_default_provider


class Command(BaseCommand):
    help = "Ensure an admin account and the default provider; print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = settings.DATA_DIR / "admin-credentials.txt"
        if password := ensure_admin(credentials):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the admin account. Log in as {ADMIN_USERNAME} / {password}"
                )
            )
        elif credentials.exists():
            self.stdout.write(f"The admin login is in {credentials}")

        provider = ensure_default_provider()
        if provider.is_offline:
            self.stdout.write(
                "No OPENAI_API_KEY: offline demo mode, images come from the bundled stand-in "
                f"at {provider.base_url}"
            )
        else:
            self.stdout.write(f"Images come from the provider '{provider.name}'.")
        # The last line tells `make run` whether to start the stand-in.
        self.stdout.write("offline" if provider.is_offline else "online")
