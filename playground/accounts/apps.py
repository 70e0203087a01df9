from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "playground.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Connects the sign-in receiver that clears a user's own failed attempts.
        from playground.accounts import lockout  # noqa: F401
