"""On SQLite, the threads of one process take turns at the write lock (playground.core.sqlite):
each turn ends however its transaction ends, and many threads writing at once all get theirs."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from playground.generations.models import Generation
from tests.jobs import make_job
from tests.postgres import skip_unless_sqlite

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def sqlite_only() -> None:
    skip_unless_sqlite("the write turns are SQLite's")


def write_in_thread(job_pk: int, prompt: str) -> threading.Thread:
    def write() -> None:
        try:
            with transaction.atomic():
                Generation.objects.filter(pk=job_pk).update(prompt=prompt)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def other_thread_can_write(job_pk: int, prompt: str) -> bool:
    thread = write_in_thread(job_pk, prompt)
    thread.join(5)
    return not thread.is_alive() and Generation.objects.get(pk=job_pk).prompt == prompt


def test_a_turn_ends_with_its_commit(alice):
    job = make_job(alice)
    with transaction.atomic():
        Generation.objects.filter(pk=job.pk).update(prompt="committed")
    assert other_thread_can_write(job.pk, "after a commit")


def test_a_turn_ends_with_its_rollback(alice):
    job = make_job(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        Generation.objects.filter(pk=job.pk).update(prompt="rolled back")
        raise RuntimeError("undo")
    assert Generation.objects.get(pk=job.pk).prompt != "rolled back"
    assert other_thread_can_write(job.pk, "after a rollback")


def test_a_turn_ends_when_its_connection_closes_mid_transaction(alice):
    job = make_job(alice)
    atomic = transaction.atomic()
    atomic.__enter__()
    Generation.objects.filter(pk=job.pk).update(prompt="cut off")
    waiting = write_in_thread(job.pk, "after a close")
    time.sleep(0.3)
    assert waiting.is_alive()  # it waits for this thread's turn to end
    connection.close()
    waiting.join(5)
    assert not waiting.is_alive()
    atomic.__exit__(None, None, None)  # Django ends a block whose connection was closed
    assert Generation.objects.get(pk=job.pk).prompt == "after a close"


def test_many_threads_writing_at_once_all_get_their_turn(alice):
    job = make_job(alice)
    errors: list[BaseException] = []
    start = threading.Barrier(40)

    def writes() -> None:
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    row = Generation.objects.select_for_update().get(pk=job.pk)
                    Generation.objects.filter(pk=job.pk).update(attempts=row.attempts + 1)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writes) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    # Read and write in one turn each: no increment was lost to another thread's.
    assert Generation.objects.get(pk=job.pk).attempts == job.attempts + 200
