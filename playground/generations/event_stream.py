"""The event stream a playground page follows its jobs by (Server-Sent Events).

Each event names a job of the signed-in user that changed, with its new revision; the page then
fetches that job's card like any htmx request. The stream itself reads the database once, to
know who is asking, and then waits on the web process's JobEventHub without a connection.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from playground.generations.push import (
    CATCH_UP,
    STREAM_OVER,
    STREAM_SECONDS,
    Announcement,
    JobEventHub,
    TooManyStreams,
    job_event_hub,
)

KEEPALIVE_SECONDS = 15.0  # a comment now and then, so proxies and browsers keep the stream
LISTENER_WAIT_SECONDS = 2.0
RECONNECT_MS = 1000


@require_GET
async def job_events(request: HttpRequest) -> HttpResponse:
    # Not @login_required: a redirect to the login page means nothing to an EventSource.
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Log in to follow your jobs.", status=401, content_type="text/plain")
    if not isinstance(request, ASGIRequest):
        # Served over WSGI, a stream would hold a thread for as long as the page is open:
        # 204 tells the browser not to reconnect, and the page polls instead.
        return HttpResponse(status=204)
    hub = job_event_hub()
    if not await hub.wait_live(LISTENER_WAIT_SECONDS):
        return HttpResponse(
            "Live updates are unavailable just now; the page checks on its jobs instead.",
            status=503,
            content_type="text/plain",
            headers={"Retry-After": "5"},
        )
    # The session lookup opened a connection in this request's thread: give it back now,
    # not when the stream ends minutes later.
    await sync_to_async(connections.close_all)()
    if not hub.has_room(user.pk):
        return HttpResponse(
            "Too many open pages follow your jobs; this one checks on them instead.",
            status=429,
            content_type="text/plain",
            headers={"Retry-After": "60"},
        )
    return EventStreamResponse(PageStream(hub, user.pk))


class PageStream:
    """One page's subscription: taken when its stream starts, given back when it ends or
    when Django closes the response, whichever comes first (an async generator left
    unfinished by a client that hung up is only finalized later, by the garbage collector)."""

    def __init__(self, hub: JobEventHub, owner_id: int) -> None:
        self.hub = hub
        self.owner_id = owner_id
        self.queue: asyncio.Queue[Announcement] | None = None
        self.loop = asyncio.get_running_loop()

    def unsubscribe(self) -> None:
        if self.queue is not None:
            self.hub.unsubscribe(self.owner_id, self.queue)

    def unsubscribe_from_any_thread(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone, and the hub with it
            self.loop.call_soon_threadsafe(self.unsubscribe)


class EventStreamResponse(StreamingHttpResponse):
    def __init__(self, stream: PageStream) -> None:
        super().__init__(_events(stream), content_type="text/event-stream; charset=utf-8")
        self["Cache-Control"] = "no-cache, no-store"
        self["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        self.stream = stream

    def close(self) -> None:
        self.stream.unsubscribe_from_any_thread()  # Django calls close() from a thread
        super().close()


async def _events(stream: PageStream) -> AsyncIterator[str]:
    # Subscribed here, not in the view: a client that leaves before its stream starts (a
    # hidden tab closing it at once) then leaves no subscription behind.
    try:
        queue = stream.queue = stream.hub.subscribe(stream.owner_id)
    except TooManyStreams:  # another page took the last place meanwhile
        yield ": too many open pages\n\n"
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    try:
        yield f"retry: {RECONNECT_MS}\n: following your jobs\n\n"
        while (left := deadline - loop.time()) > 0:
            try:
                item = await asyncio.wait_for(queue.get(), min(KEEPALIVE_SECONDS, left))
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is STREAM_OVER:
                return
            if item is CATCH_UP:
                yield "event: catch-up\ndata: {}\n\n"
                continue
            event = {"id": item.job_id, "rev": item.revision}
            if item.image_ids:
                event["display"] = [reverse("image-display", args=[pk]) for pk in item.image_ids]
            data = json.dumps(event)
            yield f"event: job\ndata: {data}\n\n"
    finally:
        stream.unsubscribe()
