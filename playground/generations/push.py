"""Job progress pushed to open pages: workers publish each change, every web process fans it out.

A change to a job (claimed, a preview stored, settled, cancelled, given back) is published once
it has committed, as "<owner id> <job id> <revision>[ <image id>,...]". The revision is the
job's state and its number of previews, which is also what its card shows, so a page can tell
whether its card is behind. A settled job names its images, so the page can start loading them
while it fetches the card.

PostgreSQL: `pg_notify` on a channel, heard by one LISTEN connection per web process.
SQLite lives on one machine: a datagram to each web process's Unix socket under WAKEUP_DIR.
A web process holds that one listener whatever the number of open pages; a page's event stream
waits on an asyncio queue and never holds a database connection while it waits.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count

from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.generations.wakeup import send_to_local_sockets

logger = logging.getLogger(__name__)

CHANNEL = "playground_job_events"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to about 108 bytes
QUEUE_LIMIT = 256  # events waiting for one page; past that it is told to catch up instead
# Open pages of one person in one web process: more is a script holding connections open, and
# those pages poll instead.
STREAMS_PER_OWNER = 50
# A page's stream ends after STREAM_SECONDS (the browser reconnects). A subscription older than
# its stream could be was left behind by a client that hung up in the instant its stream began:
# it is dropped, so it can neither hold memory nor count against the owner's streams.
STREAM_SECONDS = 300.0
SUBSCRIPTION_LIFETIME_SECONDS = STREAM_SECONDS + 30.0
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
# Connection options of Django's backend that libpq and psycopg's async connection do not take.
NOT_LIBPQ_OPTIONS = (
    "cursor_factory",
    "isolation_level",
    "server_side_binding",
    "pool",
    "assume_role",
    "context",
)


def revision(state: str, preview_count: int) -> str:
    return f"{state}.{preview_count}"


# -- publishing (worker and web processes) --------------------------------------------------


def job_changed(generation_id: int) -> None:
    """Announce a change of this job to its owner's open pages once it has committed.

    Never raises: a page that misses an announcement catches up when its stream reconnects,
    and pages without a stream poll.
    """
    transaction.on_commit(lambda: _publish(generation_id))


def jobs_started(generation_ids: list[int]) -> None:
    """Announce jobs a worker started together, with one read once they have committed."""
    if generation_ids:
        transaction.on_commit(lambda: _publish_started(list(generation_ids)))


def _publish_started(generation_ids: list[int]) -> None:
    try:
        rows = (
            Generation.objects.filter(pk__in=generation_ids, state__in=Generation.UNFINISHED_STATES)
            .annotate(preview_count=Count("previews"))
            .values_list("pk", "owner_id", "state", "preview_count")
        )
        messages = [
            f"{owner_id} {generation_id} {revision(state, preview_count)}"
            for generation_id, owner_id, state, preview_count in rows
        ]
        if connection.vendor == "postgresql":
            if messages:  # all in one statement
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_notify(%s, message) FROM unnest(%s::text[]) AS message",
                        [CHANNEL, messages],
                    )
        else:
            for message in messages:
                _send_to_web_processes(message.encode())
    except DatabaseError as error:
        logger.warning("jobs %s: their start could not be announced (%s)", generation_ids, error)


def _notify(message: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, message])
    else:
        _send_to_web_processes(message.encode())


def _publish(generation_id: int) -> None:
    try:
        row = (
            Generation.objects.filter(pk=generation_id)
            .annotate(preview_count=Count("previews"))
            .values_list("owner_id", "state", "preview_count")
            .first()
        )
        if row is None:
            return
        owner_id, state, preview_count = row
        message = f"{owner_id} {generation_id} {revision(state, preview_count)}"
        if state not in Generation.UNFINISHED_STATES:
            image_ids = Image.objects.filter(generation_id=generation_id).order_by("index")
            if ids := ",".join(str(pk) for pk in image_ids.values_list("pk", flat=True)):
                message += f" {ids}"
        _notify(message)
    except DatabaseError as error:
        logger.warning("job %s: its change could not be announced (%s)", generation_id, error)


def _send_to_web_processes(message: bytes) -> None:
    send_to_local_sockets("web-*.sock", message)


# -- fanning out (each web process) ---------------------------------------------------------


class TooManyStreams(Exception):
    """This person has STREAMS_PER_OWNER streams open in this process already."""


class Announcement:
    """What a page's stream receives: a job that changed, or an order to stop."""

    __slots__ = ("image_ids", "job_id", "revision")

    def __init__(self, job_id: int, revision: str, image_ids: tuple[int, ...] = ()) -> None:
        self.job_id = job_id
        self.revision = revision
        self.image_ids = image_ids


# Sentinels put in a page's queue: it fell behind (refresh everything), or the listener is
# down (end the stream, so the page falls back to polling until it reconnects).
CATCH_UP = Announcement(0, "catch-up")
STREAM_OVER = Announcement(0, "over")


class JobEventHub:
    """One listener per web process and event loop; pages subscribe by owner."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: dict[int, set[asyncio.Queue[Announcement]]] = {}
        self.subscribed_at: dict[asyncio.Queue[Announcement], float] = {}
        self.live = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        # Programs waiting for one job each (API requests): not pages, so not capped per owner.
        self.job_waiters: dict[int, set[asyncio.Event]] = {}

    # The hub belongs to the loop that first used it; a new loop (tests, a reloaded server)
    # starts a new listener.
    def _ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.task is not None and not self.task.done():
            return
        self.loop = loop
        self.subscribers = {}
        self.subscribed_at = {}
        self.job_waiters = {}
        self.live = asyncio.Event()
        listen = self._listen_postgres if connection.vendor == "postgresql" else self._listen_socket
        self.task = loop.create_task(listen(), name="job-event-listener")

    async def wait_live(self, timeout: float) -> bool:
        self._ensure_listening()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.live.wait(), timeout)
        return self.live.is_set()

    def has_room(self, owner_id: int) -> bool:
        self._ensure_listening()
        self._drop_stale(owner_id)
        return len(self.subscribers.get(owner_id, ())) < STREAMS_PER_OWNER

    def _drop_stale(self, owner_id: int) -> None:
        now = time.monotonic()
        for queue in list(self.subscribers.get(owner_id, ())):
            if now - self.subscribed_at.get(queue, now) > SUBSCRIPTION_LIFETIME_SECONDS:
                self.unsubscribe(owner_id, queue)

    def subscribe(self, owner_id: int) -> asyncio.Queue[Announcement]:
        """A queue of this owner's announcements; TooManyStreams past STREAMS_PER_OWNER."""
        self._ensure_listening()
        queues = self.subscribers.setdefault(owner_id, set())
        if len(queues) >= STREAMS_PER_OWNER:
            raise TooManyStreams
        queue: asyncio.Queue[Announcement] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        queues.add(queue)
        self.subscribed_at[queue] = time.monotonic()
        return queue

    def unsubscribe(self, owner_id: int, queue: asyncio.Queue[Announcement]) -> None:
        self.subscribed_at.pop(queue, None)
        queues = self.subscribers.get(owner_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[owner_id]

    def watch_job(self, job_id: int) -> asyncio.Event:
        """An event set whenever this job is announced; give it back with `unwatch_job`."""
        self._ensure_listening()
        event = asyncio.Event()
        self.job_waiters.setdefault(job_id, set()).add(event)
        return event

    def unwatch_job(self, job_id: int, event: asyncio.Event) -> None:
        events = self.job_waiters.get(job_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self.job_waiters[job_id]

    @property
    def page_count(self) -> int:
        return sum(len(queues) for queues in self.subscribers.values())

    def dispatch(self, message: str) -> None:
        try:
            owner, job, rev, *images = message.split(" ", 3)
            owner_id, job_id = int(owner), int(job)
            image_ids = tuple(int(pk) for pk in images[0].split(",")) if images else ()
        except ValueError:
            logger.warning("ignoring a malformed job event %r", message[:100])
            return
        for queue in self.subscribers.get(owner_id, ()):
            _offer(queue, Announcement(job_id, rev, image_ids))
        for event in self.job_waiters.get(job_id, ()):
            event.set()

    def _end_all_streams(self) -> None:
        for queues in self.subscribers.values():
            for queue in queues:
                _offer(queue, STREAM_OVER)

    async def _listen_postgres(self) -> None:
        import psycopg

        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key not in NOT_LIBPQ_OPTIONS
        }
        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self.live.set()
                    async for notify in conn.notifies():
                        self.dispatch(notify.payload)
            except psycopg.Error as error:
                logger.warning("job events: LISTEN failed (%s); pages poll meanwhile", error)
            finally:
                self._went_down()
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
            failures += 1

    async def _listen_socket(self) -> None:
        directory = Path(settings.WAKEUP_DIR)
        path = directory / f"web-{os.getpid()}-{id(self)}.sock"
        if len(str(path)) > MAX_SOCKET_PATH:
            logger.warning("%s is too long for a socket: pages poll", path)
            return
        directory.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(str(path))
        receiver.setblocking(False)
        loop = asyncio.get_running_loop()
        loop.add_reader(receiver.fileno(), self._drain(receiver))
        self.live.set()
        try:
            await asyncio.Future()  # until the loop ends or the task is cancelled
        finally:
            loop.remove_reader(receiver.fileno())
            receiver.close()
            path.unlink(missing_ok=True)
            self._went_down()

    def _drain(self, receiver: socket.socket) -> Callable[[], None]:
        def read_all() -> None:
            with contextlib.suppress(BlockingIOError):
                while data := receiver.recv(256):
                    self.dispatch(data.decode(errors="replace"))

        return read_all

    def _went_down(self) -> None:
        if self.live.is_set():
            self.live.clear()
            self._end_all_streams()


def _offer(queue: asyncio.Queue[Announcement], item: Announcement) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        # The page is far behind: drop what it has not read and tell it to catch up at once.
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(STREAM_OVER if item is STREAM_OVER else CATCH_UP)


_hub = JobEventHub()


def job_event_hub() -> JobEventHub:
    return _hub
