"""Job progress pushed to pages: announcements after commit, fan-out by owner, the event stream.

The stream tests talk HTTP to the ASGI test server (uvicorn), as a browser's EventSource does.
They also run on PostgreSQL (LISTEN/NOTIFY) in `make test-postgres`.
"""

import asyncio
import contextlib
import http.client
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from PIL import Image as PILImage

from playground.gallery.storage import store_image
from playground.generations import push
from playground.generations.models import Generation
from playground.generations.push import (
    CATCH_UP,
    CHANNEL,
    NOT_LIBPQ_OPTIONS,
    QUEUE_LIMIT,
    JobEventHub,
    _send_to_web_processes,
    job_changed,
    job_event_hub,
)
from playground.generations.runner import claim, finish
from tests.postgres import skip_unless_postgresql
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def png_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32), "teal").save(out, "PNG")
    return out.getvalue()


def make_job(owner) -> Generation:  # type: ignore[no-untyped-def]
    return Generation.objects.create(
        owner=owner,
        model="gpt-image-2",
        prompt="a heron",
        params={"size": "1024x1024", "quality": "low", "n": 1},
    )


# -- publishing --------------------------------------------------------------------------------


class Announcements:
    """What a web process would hear: its datagram socket on SQLite, LISTEN on PostgreSQL."""

    def __init__(self) -> None:
        self.receiver: socket.socket | None = None
        self.listener = None
        if connection.vendor == "postgresql":
            import psycopg

            params = {
                k: v
                for k, v in connection.get_connection_params().items()
                if k not in NOT_LIBPQ_OPTIONS
            }
            self.listener = psycopg.connect(**params, autocommit=True)
            self.listener.execute(f"LISTEN {CHANNEL}")
        else:
            directory = Path(settings.WAKEUP_DIR)
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / "web-test.sock"
            self.path.unlink(missing_ok=True)
            self.receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.receiver.bind(str(self.path))
            self.receiver.settimeout(0.1)

    def received(self) -> list[str]:
        if self.listener is not None:
            return [n.payload for n in self.listener.notifies(timeout=0.3)]
        assert self.receiver is not None
        messages = []
        while True:
            try:
                messages.append(self.receiver.recv(256).decode())
            except TimeoutError:
                return messages

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
        if self.receiver is not None:
            self.receiver.close()
            self.path.unlink(missing_ok=True)


@pytest.fixture
def announcements() -> Iterator[Announcements]:
    heard = Announcements()
    yield heard
    heard.close()


def test_a_change_is_announced_to_web_processes_once_committed(alice, announcements):
    job = make_job(alice)
    with transaction.atomic():
        job_changed(job.pk)
        assert announcements.received() == []  # not before the change is visible to others
    assert announcements.received() == [f"{alice.pk} {job.pk} queued.0"]


def test_a_rolled_back_change_is_not_announced(alice, announcements):
    job = make_job(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        job_changed(job.pk)
        raise RuntimeError
    assert announcements.received() == []


def test_claim_settle_and_cancel_announce_the_new_revision(alice, announcements):
    job = make_job(alice)
    assert claim(job.pk)
    assert finish(job.pk, Generation.State.FAILED, error_message="x")
    other = make_job(alice)
    assert other.cancel()
    assert announcements.received() == [
        f"{alice.pk} {job.pk} running.0",
        f"{alice.pk} {job.pk} failed.0",
        f"{alice.pk} {other.pk} cancelled.0",
    ]
    assert not claim(job.pk)  # nothing changed: nothing announced
    assert announcements.received() == []


def test_a_gone_web_process_socket_is_removed():
    directory = Path(settings.WAKEUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stale = directory / "web-gone.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gone:
        gone.bind(str(stale))
    _send_to_web_processes(b"1 2 queued.0")
    assert not stale.exists()


# -- fanning out -------------------------------------------------------------------------------


def test_the_hub_hands_each_owner_only_their_jobs():
    async def scenario() -> tuple[list[str], list[str]]:
        hub = JobEventHub()
        mine, theirs = hub.subscribe(1), hub.subscribe(2)
        hub.dispatch("1 10 running.0")
        hub.dispatch("2 11 succeeded.0")
        hub.dispatch("not a message")
        hub.dispatch("1 x running.0")
        got_mine = [f"{a.job_id}:{a.revision}" for a in _drain(mine)]
        got_theirs = [f"{a.job_id}:{a.revision}" for a in _drain(theirs)]
        hub.unsubscribe(1, mine)
        hub.unsubscribe(2, theirs)
        assert hub.page_count == 0
        hub.task.cancel()
        return got_mine, got_theirs

    assert in_own_loop(scenario()) == (["10:running.0"], ["11:succeeded.0"])


def test_a_page_far_behind_is_told_to_catch_up_instead_of_queueing_forever():
    async def scenario() -> list[object]:
        hub = JobEventHub()
        queue = hub.subscribe(1)
        for n in range(QUEUE_LIMIT + 5):
            hub.dispatch(f"1 {n} running.0")
        hub.task.cancel()
        return _drain(queue)

    items = in_own_loop(scenario())
    # What it had not read is dropped for one "catch up"; what came after still follows.
    assert items[0] is CATCH_UP
    assert [item.job_id for item in items[1:]] == list(range(QUEUE_LIMIT + 1, QUEUE_LIMIT + 5))


def in_own_loop(coroutine):  # type: ignore[no-untyped-def]
    """Run in a thread of its own: a browser test may have left an event loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


# -- the event stream --------------------------------------------------------------------------


class EventStream:
    """An EventSource's view of /generations/events/: raw HTTP, events parsed as they come."""

    def __init__(self, server_url: str, cookies: dict[str, str]) -> None:
        host, port = server_url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.conn.request("GET", "/generations/events/", headers={"Cookie": cookie})
        self.response = self.conn.getresponse()
        self.events: list[tuple[str, str]] = []
        self.comments = 0
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event, data = "message", ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = line.removeprefix("data: ")
                elif not line:
                    if data:
                        self.events.append((event, data))
                    event, data = "message", ""
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by the test (http.client trips over its own closed file)

    def jobs(self) -> list[dict]:
        return [json.loads(data) for event, data in self.events if event == "job"]

    def close(self) -> None:
        # Shut the socket first: the reading thread holds the response's lock until it wakes.
        if self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def session_cookies(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def test_the_stream_requires_a_login(live_server):
    stream = EventStream(live_server.url, {})
    assert stream.response.status == 401
    stream.close()


def test_under_wsgi_the_stream_says_no_content_and_the_page_polls(client, alice):
    client.force_login(alice)
    # The test client speaks WSGI; in a thread of its own (see in_own_loop).
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(client.get, "/generations/events/").result().status_code == 204


def test_a_page_hears_its_own_jobs_change_and_no_one_elses(live_server, client, alice, bob):
    alices = EventStream(live_server.url, session_cookies(client, alice))
    bobs = EventStream(live_server.url, session_cookies(client, bob))
    assert alices.response.status == 200
    assert alices.response.getheader("Content-Type").startswith("text/event-stream")
    assert alices.response.getheader("Content-Encoding") is None  # never buffered by gzip
    assert wait_for(lambda: alices.comments and bobs.comments, timeout=5)

    job = make_job(alice)
    assert claim(job.pk)
    images = [store_image(job, index, png_bytes()) for index in range(2)]
    assert finish(job.pk, Generation.State.SUCCEEDED)
    expected = [
        {"id": job.pk, "rev": "running.0"},
        # A settled job names its images' large renditions, for the page to load at once.
        {
            "id": job.pk,
            "rev": "succeeded.0",
            "display": [f"/gallery/{image.pk}/display/" for image in images],
        },
    ]
    assert wait_for(lambda: alices.jobs() == expected, timeout=5), alices.events
    time.sleep(0.2)
    assert bobs.jobs() == []
    alices.close()
    bobs.close()


def test_open_streams_hold_no_database_connection(live_server, client, alice):
    skip_unless_postgresql("connections are counted by PostgreSQL (pg_stat_activity)")
    cookies = session_cookies(client, alice)
    before = _backends()
    streams = [EventStream(live_server.url, cookies) for _ in range(20)]
    assert all(s.response.status == 200 for s in streams)
    assert wait_for(lambda: all(s.comments for s in streams), timeout=5)
    time.sleep(0.3)
    # The server's one LISTEN connection at most, whatever the number of pages.
    assert _backends() - before <= 1
    job = make_job(alice)
    assert claim(job.pk)
    assert wait_for(lambda: all(s.jobs() for s in streams), timeout=5)
    for stream in streams:
        stream.close()


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def streams_of(hub: JobEventHub, user) -> int:  # type: ignore[no-untyped-def]
    """This user's open streams (other tests' users may still be hanging up)."""
    return len(hub.subscribers.get(user.pk, ()))


def test_closed_pages_leave_no_subscription_behind(live_server, client, alice):
    hub = job_event_hub()
    cookies = session_cookies(client, alice)
    streams = [EventStream(live_server.url, cookies) for _ in range(20)]
    assert wait_for(lambda: streams_of(hub, alice) == 20, timeout=5), streams_of(hub, alice)
    for stream in streams:
        stream.close()
    assert wait_for(lambda: streams_of(hub, alice) == 0, timeout=5), streams_of(hub, alice)


def test_one_person_cannot_hold_streams_without_end(live_server, client, alice, monkeypatch):
    monkeypatch.setattr(push, "STREAMS_PER_OWNER", 3)
    cookies = session_cookies(client, alice)
    streams = [EventStream(live_server.url, cookies) for _ in range(3)]
    assert [s.response.status for s in streams] == [200, 200, 200]
    refused = EventStream(live_server.url, cookies)
    assert refused.response.status == 429
    assert refused.response.getheader("Retry-After") == "60"
    refused.close()
    streams[0].close()  # a page closed: room for another
    assert wait_for(lambda: streams_of(job_event_hub(), alice) == 2, timeout=5)
    streams[0] = EventStream(live_server.url, cookies)
    assert streams[0].response.status == 200
    for stream in streams:
        stream.close()


def test_clients_that_leave_at_once_leave_no_subscription(live_server, client, alice, monkeypatch):
    """A hidden tab closes a stream it has just opened: nothing may stay subscribed for
    longer than a stream can last (here shortened to a second)."""
    monkeypatch.setattr(push, "SUBSCRIPTION_LIFETIME_SECONDS", 1.0)
    hub = job_event_hub()
    cookie = "; ".join(f"{k}={v}" for k, v in session_cookies(client, alice).items())
    host, port = live_server.url.removeprefix("http://").split(":")
    for delay in (0, 0.001, 0.005, 0.02) * 5:
        with socket.create_connection((host, int(port))) as raw:
            request = f"GET /generations/events/ HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
            raw.sendall((request + "\r\n").encode())
            time.sleep(delay)
    time.sleep(1.2)
    # The next page to connect clears whatever its owner's hung-up clients left behind.
    last = EventStream(live_server.url, session_cookies(client, alice))
    assert last.response.status == 200
    assert wait_for(lambda: streams_of(hub, alice) == 1, timeout=5), streams_of(hub, alice)
    last.close()
    assert wait_for(lambda: streams_of(hub, alice) == 0, timeout=5), streams_of(hub, alice)
