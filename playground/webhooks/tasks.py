from django_tasks import task

from playground.webhooks.delivery import deliver


@task()
def deliver_callback(delivery_id: int, attempt: int) -> None:
    # The payload is ids only: the body is built and signed when the attempt is made.
    deliver(delivery_id, attempt)
