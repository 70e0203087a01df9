"""A task API task with a callback URL gets its pending delivery in the same transaction, and
its callback is scheduled when its job is cancelled."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from playground.api.models import ApiTask
from playground.generations.signals import job_cancelled
from playground.webhooks.delivery import add_delivery, schedule_after_job


@receiver(post_save, sender=ApiTask, dispatch_uid="webhooks-delivery-for-new-task")
def delivery_for_new_task(sender: type, instance: ApiTask, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        add_delivery(instance)


@receiver(job_cancelled, dispatch_uid="webhooks-callback-after-cancel")
def callback_after_cancel(sender: type, generation_id: int, **kwargs: Any) -> None:
    transaction.on_commit(lambda: schedule_after_job(generation_id))
