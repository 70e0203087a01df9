"""Waiting for a job to settle without holding a database connection or a server thread.

The web process's JobEventHub sets an event when a worker announces the job; the database is
also read every few seconds, since an announcement can be missed or the listener be down.
Each read is short and gives its connection back at once.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connections

from playground.generations.models import Generation
from playground.generations.push import job_event_hub

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 3.0
T = TypeVar("T")


def read_and_close(read: Callable[[], T]) -> Callable[[], T]:
    """`read`, then give this thread's connections back (the wait must not hold one)."""

    def run() -> T:
        try:
            return read()
        finally:
            connections.close_all()

    return run


def _is_settled(job_id: int) -> bool:
    return not Generation.objects.filter(pk=job_id, state__in=Generation.UNFINISHED_STATES).exists()


async def wait_until_settled(job_id: int, timeout: float) -> bool:
    """True once the job has settled; False when `timeout` seconds passed first.

    Cancelling the wait (a client hanging up) leaves the job alone: it runs to the end.
    """
    hub = job_event_hub()
    announced = hub.watch_job(job_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            announced.clear()  # before the read: an announcement during it is not lost
            try:
                if await sync_to_async(read_and_close(lambda: _is_settled(job_id)))():
                    return True
            except DatabaseError as error:
                # The job is queued and paid for: a database busy for a moment must not turn
                # into an error that a client would answer by asking (and paying) again.
                logger.warning("reading job %s failed (%s); will read again", job_id, error)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(announced.wait(), min(RECHECK_SECONDS, remaining))
    finally:
        hub.unwatch_job(job_id, announced)
