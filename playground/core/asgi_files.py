"""Files streamed chunk by chunk over ASGI, as they are over WSGI.

Django serves a FileResponse (images, static files through whitenoise) over ASGI by reading the
whole file into memory first, with a warning each time, because the file is read synchronously.
This handler gives such responses an async iterator that reads one block at a time in a thread,
so a large original costs a block of memory, not its size. It is the ASGI handler's job, not a
middleware's: a middleware would also run, needlessly converted, under WSGI and the test client.

Request bodies go through the gate of core/body_limits.py first: a large one is read only for
a caller who is signed in, and only up to the limit.
"""

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase

from playground.core.body_limits import LimitedReceive, Refusal, admit


def _next_block(blocks: Iterator[bytes]) -> bytes | None:
    return next(blocks, None)


async def _read_in_threads(blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Not thread-sensitive: a file read needs no database connection or request thread.
    read = sync_to_async(_next_block, thread_sensitive=False)
    while (block := await read(blocks)) is not None:
        yield block


# Requests that wait long: an API call waiting for its job, a page following its jobs.
LONG_WAIT_PATHS = ("/v1/", "/generations/events/")


class FileStreamingASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # Django gives each request a thread of its own for its synchronous parts, kept until
        # the request ends: a request waiting minutes for its job would keep an idle thread
        # all along. Long-waiting requests share these few instead (one thread each, so a
        # request's database work still runs on one thread at a time), which also bounds the
        # database connections they open at once.
        count = max(1, int(getattr(settings, "WEB_WAIT_THREADS", 4)))
        self._wait_executors = itertools.cycle(
            [ThreadPoolExecutor(max_workers=1, thread_name_prefix="wait") for _ in range(count)]
        )

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") == "http" and scope.get("path", "").startswith(LONG_WAIT_PATHS):
            async with ThreadSensitiveContext(executor=next(self._wait_executors)):
                await super().__call__(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def handle(self, scope: dict, receive: Callable, send: Callable) -> None:
        admission = await admit(scope, receive)
        if admission is None:  # the client left
            return
        if isinstance(admission, Refusal):
            await self._refuse(admission, send)
            return
        body = LimitedReceive(receive, admission)
        await super().handle(scope, body, send)
        if body.overflowed:  # Django gave up reading, and deleted what it had spooled
            await self._refuse(admission.overflow, send)

    async def _refuse(self, refusal: Refusal, send: Callable) -> None:
        response = refusal.response()
        await self.send_response(response, send)
        # Closing a response ends the request for Django: its database connections close.
        await sync_to_async(response.close)()

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        response = await super().run_get_response(request)
        if isinstance(response, FileResponse) and not response.is_async:
            response.streaming_content = _read_in_threads(iter(response.streaming_content))
        return response


def get_asgi_application() -> FileStreamingASGIHandler:
    """Django's get_asgi_application(), with the file streaming handler."""
    django.setup(set_prefix=False)
    return FileStreamingASGIHandler()
