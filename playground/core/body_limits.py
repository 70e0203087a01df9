"""Request bodies checked before they are read: who may send a large one, and how large.

Django's ASGI handler spools the whole body into a temporary file before any middleware runs,
so the sign-in check, CSRF and the upload limits would all come after the disk has taken it.
Here a request whose body may pass REQUEST_BODY_ANONYMOUS_MAX_BYTES is first identified from its
headers alone: a session of a signed-in user with a valid CSRF token (from the X-CSRFToken
header htmx sends, or the first field of a form posted without JavaScript), or on API paths a
Bearer API key. Anyone else is refused with 403 before the body is read; a signed-in caller gets
413 when the body declares, or turns out, to be over REQUEST_BODY_MAX_BYTES.

Refusals carry `Connection: close`: otherwise the server would keep reading (and discarding)
the rest of the body to reuse the connection.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from io import BytesIO
from typing import Any
from urllib.parse import unquote_plus

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.request import HttpHeaders
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters

from playground.core.errors import (
    REQUEST_ID_HEADER,
    ApiError,
    new_request_id,
    openai_response,
    response_for_path,
)

logger = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/api/", "/v1/")
CSRF_FIELD = "csrfmiddlewaretoken"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# How a caller whose body may pass the allowance signed in: only a session needs a CSRF token.
API_KEY = "api key"
SESSION = "session"

Message = dict[str, Any]
Receive = Callable[[], Any]


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    api: str  # the path of an API request (answered in its API's envelope); "" for a page
    headers: tuple[tuple[str, str], ...] = ()
    error_type: str = ""  # in OpenAI's error shape; by default from the status

    def response(self) -> HttpResponse:
        response: HttpResponse
        if self.api:
            error = ApiError(
                self.status, self.message, code=self.code, error_type=self.error_type or None
            )
            response = response_for_path(self.api, error) or openai_response(error)
            if self.api.startswith("/v1"):
                response[REQUEST_ID_HEADER] = new_request_id()  # no middleware saw it
        else:
            response = HttpResponse(
                self.message, status=self.status, content_type="text/plain; charset=utf-8"
            )
        for name, value in self.headers:
            response[name] = value
        response["Content-Length"] = str(len(response.content))
        response["Connection"] = "close"
        return response


@dataclass(frozen=True)
class Admission:
    """A request let through: the body read so far, and what to answer past `limit` bytes."""

    limit: int
    overflow: Refusal
    prefix: bytes = b""
    prefix_ends_body: bool = False


class LimitedReceive:
    """The ASGI receive channel, replaying the bytes the gate read and cutting off at the limit.

    Past the limit it reports a disconnect: Django's read_body then closes (and so deletes) its
    spooled file and gives up, and the handler answers with `admission.overflow`.
    """

    def __init__(self, receive: Receive, admission: Admission) -> None:
        self._receive = receive
        self._admission = admission
        self._replayed = not admission.prefix and not admission.prefix_ends_body
        self._seen = len(admission.prefix)
        self.overflowed = False

    async def __call__(self) -> Message:
        if not self._replayed:
            self._replayed = True
            more = not self._admission.prefix_ends_body
            return {"type": "http.request", "body": self._admission.prefix, "more_body": more}
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._admission.limit:
                self.overflowed = True
                return {"type": "http.disconnect"}
        return message


def megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.0f} MB"


def _is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


def _too_large(api: str, declared: int | None = None) -> Refusal:
    cap = megabytes(settings.REQUEST_BODY_MAX_BYTES)
    size = f" ({megabytes(declared)})" if declared else ""
    return Refusal(
        413, "request_too_large", f"The request body{size} is over the limit of {cap}.", api
    )


def _not_signed_in(api: str) -> Refusal:
    allowance = megabytes(settings.REQUEST_BODY_ANONYMOUS_MAX_BYTES)
    how = "Send an API key ('Authorization: Bearer ...')" if api else "Sign in"
    return Refusal(
        403,
        "authentication_required",
        f"{how} to send a request body over {allowance}.",
        api,
    )


def _declared_length(scope: dict[str, Any]) -> int | None:
    """The Content-Length, or None when the length is not known in advance (chunked)."""
    headers = dict(scope.get("headers", []))
    if b"content-length" in headers:
        return int(headers[b"content-length"])
    return None if b"transfer-encoding" in headers else 0


async def _read_prefix(
    receive: Receive, most: int, enough: Callable[[bytes, bool], bool]
) -> tuple[bytes, bool] | None:
    """Body bytes until `enough`, the end of the body or more than `most` bytes; None when
    the client left."""
    prefix = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        prefix += message.get("body", b"")
        ended = not message.get("more_body", False)
        if ended or len(prefix) > most or enough(bytes(prefix), ended):
            return bytes(prefix), ended


def first_form_field(body: bytes, content_type: str, ended: bool) -> tuple[str, str] | None:
    """The first field of a form body as (name, value); None until it has fully arrived.

    A body that is not a form, or a form whose first part cannot be read, gives ("", "").
    """
    kind, params = parse_header_parameters(content_type)
    if kind == "application/x-www-form-urlencoded":
        field, amp, _ = body.partition(b"&")
        if not amp and not ended:
            return None
        name, _, value = field.decode("latin1").partition("=")
        return unquote_plus(name), unquote_plus(value)
    boundary = params.get("boundary", "").encode("latin1")
    if kind != "multipart/form-data" or not boundary:
        return "", ""
    opening = b"--" + boundary + b"\r\n"
    if len(body) < len(opening):
        return ("", "") if ended else None
    if not body.startswith(opening):
        return "", ""
    head_end = body.find(b"\r\n\r\n", len(opening))
    value_end = body.find(b"\r\n--" + boundary, head_end + 4) if head_end >= 0 else -1
    if value_end < 0:
        return ("", "") if ended else None
    name = ""
    for line in body[len(opening) : head_end].decode("latin1").split("\r\n"):
        header, _, value = line.partition(":")
        if header.strip().lower() == "content-disposition":
            name = parse_header_parameters(value.strip())[1].get("name", "")
    return name, body[head_end + 4 : value_end].decode("latin1")


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF middleware, giving the reason it would refuse instead of a 403 page."""

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_refusal_reason(request: HttpRequest, form_token: str | None) -> str | None:
    """Why Django's CSRF check refuses this request (None: it passes), with the token of the
    form's first field standing in for a POST body that has not been read."""
    request._post = QueryDict(mutable=True)  # type: ignore[attr-defined]
    if form_token:
        request._post[CSRF_FIELD] = form_token  # type: ignore[attr-defined]
    request._files = MultiValueDict()  # type: ignore[attr-defined]
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        view = None
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, view, (), {})  # type: ignore[arg-type, return-value]


def _signed_in_by_session(request: HttpRequest) -> bool:
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(session_key)  # type: ignore[attr-defined]
    return get_user(request).is_authenticated


def _needs_form_token(request: HttpRequest) -> bool:
    return (
        request.method == "POST"
        and settings.CSRF_HEADER_NAME not in request.META
        and request.content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}
    )


async def admit(scope: dict[str, Any], receive: Receive) -> Admission | Refusal | None:
    """Let a request through (with the body bytes read so far), refuse it, or None when the
    client left while its first bytes were read."""
    allowance = settings.REQUEST_BODY_ANONYMOUS_MAX_BYTES
    path = scope.get("path", "")
    api = path if _is_api_path(path) else ""
    try:
        declared = _declared_length(scope)
    except ValueError:
        return Refusal(400, "invalid_content_length", "The Content-Length is not a number.", api)
    if declared is not None and declared <= allowance:
        return Admission(limit=allowance, overflow=_too_large(api))

    prefix, ended = b"", False
    if declared is None:
        # Unknown length (chunked): most such bodies are small, and need no look-up.
        read = await _read_prefix(receive, allowance, lambda body, ended: False)
        if read is None:
            return None
        prefix, ended = read
        if len(prefix) <= allowance:
            return Admission(allowance, _too_large(api), prefix, ended)

    try:
        request = ASGIRequest(scope, BytesIO())
    except UnicodeDecodeError:
        return Refusal(400, "invalid_request", "The query string is not valid UTF-8.", api)
    try:
        caller = await _identify(request, api, declared)
        if caller is SESSION and declared is not None and _needs_form_token(request):
            content_type = request.META.get("CONTENT_TYPE", "")
            read = await _read_prefix(
                receive,
                allowance,
                lambda body, ended: first_form_field(body, content_type, ended) is not None,
            )
            if read is None:
                return None
            prefix, ended = read
        refusal = _check_csrf(request, api, prefix, ended) if caller is SESSION else None
        if isinstance(caller, Refusal):
            refusal = caller
    except DisallowedHost:
        return Refusal(400, "invalid_host", "The Host header is not allowed.", api)
    except DatabaseError:
        message = "The database is not answering; retry in a few seconds."
        return Refusal(503, "database_unavailable", message, api, (("Retry-After", "5"),))
    if refusal is not None:
        logger.warning("refused %s %s: %s", request.method, request.path, refusal.message)
        return refusal
    return Admission(settings.REQUEST_BODY_MAX_BYTES, _too_large(api), prefix, ended)


async def _identify(request: HttpRequest, api: str, declared: int | None) -> Refusal | str:
    """How a caller whose body may be this long signed in (API_KEY or SESSION), or the
    refusal."""
    # Here, not at the top: the ASGI module imports this before Django's apps are loaded.
    from playground.apikeys.auth import ApiKeyError, authenticate_api_request

    caller = SESSION
    if api and "HTTP_AUTHORIZATION" in request.META:
        try:
            await sync_to_async(authenticate_api_request)(request)
        except ApiKeyError as error:
            retry = (("Retry-After", str(error.retry_after)),) if error.retry_after else ()
            return Refusal(error.status, error.code, error.message, api, retry, error.type)
        caller = API_KEY
    elif not await sync_to_async(_signed_in_by_session)(request):
        return _not_signed_in(api)
    if declared is not None and declared > settings.REQUEST_BODY_MAX_BYTES:
        return _too_large(api, declared)
    return caller


def _check_csrf(request: HttpRequest, api: str, prefix: bytes, ended: bool) -> Refusal | None:
    if request.method in SAFE_METHODS:
        return None
    form_token = None
    if _needs_form_token(request):
        field = first_form_field(prefix, request.META.get("CONTENT_TYPE", ""), ended)
        if field is not None and field[0] == CSRF_FIELD:
            form_token = field[1]
    reason = csrf_refusal_reason(request, form_token)
    if reason is None:
        return None
    allowance = megabytes(settings.REQUEST_BODY_ANONYMOUS_MAX_BYTES)
    header = HttpHeaders.parse_header_name(settings.CSRF_HEADER_NAME)
    return Refusal(
        403,
        "csrf_failed",
        f"CSRF verification failed: {reason} A request body over {allowance} needs a valid "
        f"CSRF token, in the {header} header or as the form's first field.",
        api,
    )
