"""An `x-request-id` on every answer of the OpenAI-compatible API, as OpenAI sends one.

A fresh, unguessable id per request (`req_` and 32 hex digits), on errors as on successes, so
that a caller can quote it and a log line can be found by it (`request.request_id`). Sync and
async capable: over ASGI an async view (an API call waiting for its job) stays on the event
loop.
"""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from playground.core.errors import REQUEST_ID_HEADER as HEADER
from playground.core.errors import new_request_id

API_ROOT = "/v1"

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


def is_api_path(path: str) -> bool:
    return path == API_ROOT or path.startswith(f"{API_ROOT}/")


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        if not is_api_path(request.path_info):
            return self.get_response(request)  # type: ignore[return-value]
        request_id = self._assign(request)
        response = self.get_response(request)
        response[HEADER] = request_id  # type: ignore[index]
        return response  # type: ignore[return-value]

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_path(request.path_info):
            return await self.get_response(request)  # type: ignore[misc]
        request_id = self._assign(request)
        response = await self.get_response(request)  # type: ignore[misc]
        response[HEADER] = request_id
        return response

    @staticmethod
    def _assign(request: HttpRequest) -> str:
        request_id = new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        return request_id
