from django.db import transaction
from django_tasks import task

from playground.generations.models import Generation
from playground.generations.runner import run_generation_job


@task()
def run_generation(generation_id: int) -> None:
    # The payload is the job's id only: parameters and keys stay in the database.
    run_generation_job(generation_id)


def enqueue_on_commit(generation: Generation) -> None:
    """Queue the job once the transaction that created it has committed."""

    def enqueue() -> None:
        result = run_generation.enqueue(generation.pk)
        Generation.objects.filter(pk=generation.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)
