from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from playground.apikeys.models import ApiKey
from playground.audit import log


def _usd(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CommandError(
            f"--cap-day: “{value}” is not an amount in USD, e.g. 5 or 12.50."
        ) from None
    if not amount.is_finite() or amount < 0:
        raise CommandError(f"--cap-day: “{value}” must be zero or more.")
    return amount


class Command(BaseCommand):
    help = "Create an API key for USERNAME and print it (once) as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line")
        parser.add_argument("--cap-day", dest="cap_day", help="Daily spend cap in USD.")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist:
            raise CommandError(f"No user named “{options['username']}”.") from None
        cap_day = _usd(options["cap_day"]) if options["cap_day"] is not None else None
        try:
            key, secret = ApiKey.issue(user, options["name"], cap_usd_per_day=cap_day)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        log.record(
            "created",
            key,
            details={"via": "create_api_key command", "owner": user.get_username()},
        )
        self.stdout.write(
            f"Created API key “{key.name}” for {user.get_username()}; it is shown only once:"
        )
        # Written straight to stdout, never through logging.
        self.stdout.write(secret)
