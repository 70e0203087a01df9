"""Kie.ai's File Upload API: `POST /api/file-base64-upload`, `/api/file-stream-upload` and
`/api/file-url-upload`, and the files' `downloadUrl`.

Each upload is authenticated and counted like createTask (an API key, the per-key and per-user
request limits), checked as a real image and kept 3 days, private to the key's owner. The
answer is Kie's `{"success": true, "code": 200, "msg", "data": {fileName, filePath,
downloadUrl, fileSize, mimeType, uploadedAt, ...}}`; a refusal is Kie's `{"code", "msg",
"data": null}` with the same HTTP status, its `msg` starting with the field it is about.

The `downloadUrl` serves the bytes only to an API key of the file's owner: task records and
callbacks repeat it, so it must not be a capability by itself. createTask takes it in
`input_urls` or `mask_url` and reads the file directly (resolve.py).
"""

import io
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from playground.api import outbound
from playground.api.rate_limits import check_rate
from playground.apikeys.auth import authenticate_api_request
from playground.apikeys.models import ApiKey
from playground.core.body_limits import megabytes
from playground.core.errors import ApiError, invalid, kie_file_response, kie_response
from playground.file_uploads import fields
from playground.file_uploads.models import NOT_YOURS, FileUpload
from playground.file_uploads.storing import Upload, max_upload_bytes, store_upload

logger = logging.getLogger(__name__)

SUCCESS_MSG = "File uploaded successfully"
# Room in a body for everything but the file: the other fields, JSON or multipart framing.
FIELDS_ROOM = 64 * 1024
URL_BODY_MAX = 64 * 1024
DOWNLOAD_MAX_AGE_SECONDS = 600


# -- common to every endpoint -----------------------------------------------------------------


def _method_not_allowed(
    request: HttpRequest, allowed: str, render: Callable[[ApiError], HttpResponse] = kie_response
) -> HttpResponse:
    return render(
        ApiError(
            405, f"use {allowed} for {request.path}.", param="method", headers={"Allow": allowed}
        )
    )


def _timestamp(moment: datetime) -> str:
    """Kie's form: 2025-01-01T12:00:00.000Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def upload_data(request: HttpRequest, upload: FileUpload) -> dict[str, Any]:
    """The `data` of a successful upload: the fields of Kie's reference and of its quickstart."""
    url = request.build_absolute_uri(upload.download_path())
    uploaded_at = _timestamp(upload.uploaded_at)
    return {
        "fileId": upload.token,
        "fileName": upload.file_name,
        "originalName": upload.original_name or upload.file_name,
        "filePath": upload.file_path,
        "uploadPath": upload.upload_path,
        "downloadUrl": url,
        "fileUrl": url,
        "fileSize": upload.byte_size,
        "mimeType": upload.mime_type,
        "uploadedAt": uploaded_at,
        "uploadTime": uploaded_at,
        "expiresAt": _timestamp(upload.expires_at),
    }


def _upload_view(
    request: HttpRequest, receive: Callable[[HttpRequest, ApiKey], FileUpload]
) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST", kie_file_response)
    try:
        key = authenticate_api_request(request, param="Authorization")
        rate = check_rate(key, "queue")  # before anything is read or written
        upload = receive(request, key)
    except ApiError as error:
        return kie_file_response(error)
    except DatabaseError:
        logger.exception("storing an upload failed")
        busy = ApiError(503, "The file could not be stored just now. Try again.", retry_after=5)
        return kie_file_response(busy)
    body = {"success": True, "code": 200, "msg": SUCCESS_MSG, "data": upload_data(request, upload)}
    response = JsonResponse(body)
    for name, value in rate.headers().items():
        response[name] = value
    return response


def _json_body(request: HttpRequest, max_bytes: int, field_name: str) -> dict[str, Any]:
    """The body as a JSON object, read only up to `max_bytes` (413 past it)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    too_large = ApiError(
        413, f"the request body is larger than {megabytes(max_bytes)}.", param=field_name
    )
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    raw = request.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise too_large
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid("body", f"not valid JSON ({error}).") from error
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object.")
    return body


# -- the three ways to upload -----------------------------------------------------------------


def _from_base64(request: HttpRequest, key: ApiKey) -> FileUpload:
    # Base64 takes 4 bytes for 3, and some encoders add line breaks or escape slashes.
    body_max = max_upload_bytes() * 3 // 2 + FIELDS_ROOM
    body = _json_body(request, body_max, fields.BASE64_DATA)
    content = fields.base64_content(body.get(fields.BASE64_DATA), max_upload_bytes())
    upload = Upload(
        key=key,
        method=FileUpload.Method.BASE64,
        field=fields.BASE64_DATA,
        upload_path=fields.upload_path(body.get(fields.UPLOAD_PATH)),
        file_name=fields.file_name(body.get(fields.FILE_NAME)),
    )
    return store_upload(upload, io.BytesIO(content), len(content))


def _uploaded_file(request: HttpRequest) -> Any:
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > max_upload_bytes() + FIELDS_ROOM:
        raise fields.too_large(fields.FILE, max_upload_bytes())
    if request.content_type != "multipart/form-data":
        raise invalid(fields.FILE, "send the file as multipart/form-data, in a field named file.")
    try:
        files = request.FILES.getlist(fields.FILE)
    except (RequestDataTooBig, TooManyFieldsSent) as error:
        limit = megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raise ApiError(413, f"the fields besides file are over {limit}.", param="body") from error
    except MultiPartParserError as error:
        raise invalid(fields.FILE, f"the multipart body cannot be read ({error}).") from error
    if not files:
        raise invalid(fields.FILE, "required: the image, as a multipart/form-data file field.")
    if len(files) > 1:
        raise invalid(fields.FILE, f"one file per request ({len(files)} given).")
    return files[0]


def _from_stream(request: HttpRequest, key: ApiKey) -> FileUpload:
    received = _uploaded_file(request)
    original = fields.usable_name(received.name or "")
    upload = Upload(
        key=key,
        method=FileUpload.Method.STREAM,
        field=fields.FILE,
        upload_path=fields.upload_path(request.POST.get(fields.UPLOAD_PATH)),
        file_name=fields.file_name(request.POST.get(fields.FILE_NAME)) or original,
        original_name=original,
    )
    return store_upload(upload, received, received.size)


def _fetched(url: str, host: str) -> bytes:
    """The bytes at `url`, fetched under the task API's rules: an allowed host, a public
    address, the byte cap and the deadline."""
    if not outbound.host_allowed_for_fetch(host):
        raise invalid(fields.FILE_URL, f"the host {host} is not allowed; an admin can allow it.")
    try:
        fetched = outbound.fetch(
            url,
            max_bytes=max_upload_bytes(),
            timeout=float(settings.API_FETCH_TIMEOUT_SECONDS),
        )
    except outbound.RefusedUrl as refused:
        raise invalid(fields.FILE_URL, str(refused)) from refused
    if not fetched.content:
        raise invalid(fields.FILE_URL, "fetching it returned no data.")
    return fetched.content


def _from_url(request: HttpRequest, key: ApiKey) -> FileUpload:
    body = _json_body(request, URL_BODY_MAX, "body")
    url, host = fields.file_url(body.get(fields.FILE_URL))
    upload_path = fields.upload_path(body.get(fields.UPLOAD_PATH))
    chosen_name = fields.file_name(body.get(fields.FILE_NAME))
    content = _fetched(url, host)
    original = fields.url_file_name(url)
    upload = Upload(
        key=key,
        method=FileUpload.Method.URL,
        field=fields.FILE_URL,
        upload_path=upload_path,
        file_name=chosen_name or original,
        original_name=original,
    )
    return store_upload(upload, io.BytesIO(content), len(content))


@csrf_exempt
def file_base64_upload(request: HttpRequest) -> HttpResponse:
    """`POST /api/file-base64-upload`: JSON `{base64Data, uploadPath?, fileName?}`."""
    return _upload_view(request, _from_base64)


@csrf_exempt
def file_stream_upload(request: HttpRequest) -> HttpResponse:
    """`POST /api/file-stream-upload`: multipart `file`, `uploadPath?`, `fileName?`."""
    return _upload_view(request, _from_stream)


@csrf_exempt
def file_url_upload(request: HttpRequest) -> HttpResponse:
    """`POST /api/file-url-upload`: JSON `{fileUrl, uploadPath?, fileName?}`."""
    return _upload_view(request, _from_url)


# -- downloadUrl --------------------------------------------------------------------------------


@csrf_exempt  # answers 405 in Kie's shape to a POST, rather than a CSRF page
def download(request: HttpRequest, token: str, name: str) -> HttpResponse:
    """`GET /api/uploads/<token>/<fileName>`: the file's bytes, for its owner's API keys."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    try:
        key = authenticate_api_request(request, param="Authorization")
        rate = check_rate(key, "read")
        upload = FileUpload.objects.owned_live(key.owner, token)
        if upload is None:
            raise ApiError(404, NOT_YOURS)
    except ApiError as error:
        return kie_response(error)
    etag = f'"upload-{upload.token}"'  # a token's bytes never change
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={min(DOWNLOAD_MAX_AGE_SECONDS, upload.seconds_left())}",
        **rate.headers(),
    }
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers=headers)
    try:
        stored = upload.file.open("rb")
    except OSError:  # deleted by the sweep a moment ago
        return kie_response(ApiError(404, NOT_YOURS))
    response = FileResponse(stored, content_type=upload.mime_type, filename=upload.file_name)
    for header, value in headers.items():
        response[header] = value
    return response
