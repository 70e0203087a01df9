"""`manage.py offline_images_api`: run the offline stand-in of the OpenAI Images API."""

import os
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from playground.offline_api.payloads import DEFAULT_MODERATION_WORDS
from playground.offline_api.server import OfflineImagesAPI


class Command(BaseCommand):
    help = "Serve a stand-in of the OpenAI Images API (procedural pictures, no network)."
    # The stand-in needs neither the database nor the project's checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=getattr(settings, "OFFLINE_API_PORT", 8001))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
        parser.add_argument(
            "--moderation-word",
            dest="moderation_words",
            action="extend",
            nargs="+",
            default=None,
            help="prompt words refused by moderation (default: forbidden)",
        )
        parser.add_argument(
            "--fail-next", default="", help="comma-separated faults, e.g. 429,500,timeout"
        )
        parser.add_argument(
            "--control",
            action="store_true",
            default=control_from_environment(),
            help="serve the test-only /_control/* endpoints (also OFFLINE_API_CONTROL=1); "
            "off by default: they let anyone who reaches the port inject faults",
        )
        parser.add_argument("--quiet", action="store_true", help="no per-request log lines")

    def handle(self, *args: Any, **options: Any) -> None:
        faults = [fault for fault in options["fail_next"].split(",") if fault.strip()]
        words = options["moderation_words"]
        try:
            api = OfflineImagesAPI(
                host=options["host"],
                port=options["port"],
                latency=options["latency"],
                moderation_words=DEFAULT_MODERATION_WORDS if words is None else words,
                fail_next=faults,
                enable_control=options["control"],
                log=not options["quiet"],
            )
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Offline Images API listening on {api.base_url} (Ctrl-C to stop)")
        if options["control"]:
            self.stdout.write(f"Control endpoints on at {api.url}/_control/ (testing only)")
        self.stdout.flush()
        # honcho and process managers stop with SIGTERM: shut down as cleanly as on Ctrl-C.
        signal.signal(signal.SIGTERM, interrupt)
        try:
            api.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Offline Images API stopped.")


def control_from_environment() -> bool:
    return os.environ.get("OFFLINE_API_CONTROL", "").strip().lower() in {"1", "true", "yes", "on"}


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
