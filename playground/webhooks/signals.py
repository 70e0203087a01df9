"""A task API task with a callback URL gets its pending delivery in the same transaction."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from playground.api.models import ApiTask
from playground.webhooks.delivery import add_delivery


@receiver(post_save, sender=ApiTask, dispatch_uid="webhooks-delivery-for-new-task")
def delivery_for_new_task(sender: type, instance: ApiTask, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        add_delivery(instance)
