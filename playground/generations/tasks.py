from django.db import transaction
from django_tasks import task

from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.generations.wakeup import notify_workers
from playground.webhooks.delivery import schedule_after_job


@task()
def run_generation(generation_id: int) -> None:
    # The payload is the job's id only: parameters and keys stay in the database.
    run_generation_job(generation_id)
    # A task API job that ended sends its callback (a no-op for any other job, or one that
    # went back to the queue); recovery's sweep schedules any this misses.
    transaction.on_commit(lambda: schedule_after_job(generation_id))


def enqueue_in_transaction(generation: Generation) -> None:
    """Write the job's task in the caller's transaction, so the two commit (or not) together.

    With the database backend the task is a row in the same database; a job whose task is
    lost anyway (another backend, a failure after commit) is queued again by recovery.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_in_transaction() needs the transaction that saves the job")
    result = run_generation.enqueue(generation.pk)
    generation.task_id = str(result.id)
    Generation.objects.filter(pk=generation.pk).update(task_id=generation.task_id)
    notify_workers()  # an idle worker starts it as soon as this commits, not at its next poll
