from typing import Any

from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "playground.generations"
    label = "generations"

    def ready(self) -> None:
        from playground.generations.push import job_changed
        from playground.generations.signals import job_cancelled

        def push_cancel(sender: type, generation_id: int, **kwargs: Any) -> None:
            job_changed(generation_id)  # the pages following the job show it cancelled

        job_cancelled.connect(push_cancel, weak=False, dispatch_uid="generations-push-cancel")
