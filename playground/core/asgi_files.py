"""Files streamed chunk by chunk over ASGI, as they are over WSGI.

Django serves a FileResponse (images, static files through whitenoise) over ASGI by reading the
whole file into memory first, with a warning each time, because the file is read synchronously.
This handler gives such responses an async iterator that reads one block at a time in a thread,
so a large original costs a block of memory, not its size. It is the ASGI handler's job, not a
middleware's: a middleware would also run, needlessly converted, under WSGI and the test client.

Request bodies go through the gate of core/body_limits.py first: a large one is read only for
a caller who is signed in, and only up to the limit.
"""

from collections.abc import AsyncIterator, Callable, Iterator

import django
from asgiref.sync import sync_to_async
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


class FileStreamingASGIHandler(ASGIHandler):
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
