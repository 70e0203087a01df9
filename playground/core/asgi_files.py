"""Files streamed chunk by chunk over ASGI, as they are over WSGI.

Django serves a FileResponse (images, static files through whitenoise) over ASGI by reading the
whole file into memory first, with a warning each time, because the file is read synchronously.
This middleware hands such responses an async iterator that reads one block at a time in a
thread, so a large original costs a block of memory, not its size.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponseBase

GetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


def _next_block(blocks: Iterator[bytes]) -> bytes | None:
    return next(blocks, None)


async def _read_in_threads(blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Not thread-sensitive: a file read needs no database connection or request thread.
    read = sync_to_async(_next_block, thread_sensitive=False)
    while (block := await read(blocks)) is not None:
        yield block


class AsgiFileStreamingMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if (
            isinstance(request, ASGIRequest)
            and isinstance(response, FileResponse)
            and not response.is_async
        ):
            response.streaming_content = _read_in_threads(iter(response.streaming_content))
        return response
