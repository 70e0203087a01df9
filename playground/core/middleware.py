"""Requests the database cannot take become clear 4xx/503 answers instead of 500s."""

import logging

from django.core.exceptions import FieldDoesNotExist
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

from playground.core.errors import ApiError, response_for_path

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """A database that cannot answer (connection limit, failover) is a 503 to retry.

    MiddlewareMixin makes it sync and async capable: over ASGI an async view (an API call
    waiting for its job) then runs on the event loop, not on a thread held for the wait."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable for %s %s: %s", request.method, request.path, exception)
        body = render_to_string("503.html", request=None)
        return HttpResponse(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class BadInputMiddleware(MiddlewareMixin):
    """Input no view should ever see, refused with a 400 that names the field and the reason.

    NUL bytes: no text column can hold one (PostgreSQL refuses them). Numbers beyond 64 bits
    and an empty `?_to_field=` reach the database or Django's admin unchecked and would
    otherwise end as a 500. Sync and async capable, as DatabaseUnavailableMiddleware.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            sources = (("query string", request.GET), ("form", request.POST))
        except MultiPartParserError as error:
            return _bad_request(request, f"The multipart body could not be read: {error}.")
        for where, values in sources:
            for name, value in values.lists():
                if "\x00" in name or any("\x00" in item for item in value):
                    field = name.replace(chr(0), "")
                    return _bad_request(
                        request,
                        f"The {where} field {field!r} contains a NUL byte, which no field accepts.",
                        field,
                    )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            return _bad_request(request, "A number in the request is too large.")
        if isinstance(exception, FieldDoesNotExist) and "_to_field" in request.GET:
            return _bad_request(request, "The _to_field parameter names no field.")
        return None


def _bad_request(request: HttpRequest, message: str, field: str | None = None) -> HttpResponse:
    """A 400 in the API's own envelope on an API path; plain text for a page."""
    answer = response_for_path(request.path, ApiError(400, message, param=field))
    if answer is not None:
        return answer
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
