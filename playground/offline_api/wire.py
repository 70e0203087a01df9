"""Decoding request bodies (JSON, multipart/form-data) and fault specs, with OpenAI's errors."""

import email.parser
import email.policy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from playground.core.errors import ApiError

IMAGE_FIELDS = ("image", "image[]")
MAX_BODY_BYTES = 17 * 50 * 1024 * 1024  # 16 images and a mask at their limits
FAULT_NAMES = ("429", "500", "502", "503", "401", "403", "timeout", "disconnect")


@dataclass
class FormBody:
    """Decoded request: parameters, reference images in order, optional mask."""

    params: dict[str, Any] = field(default_factory=dict)
    images: list[bytes] = field(default_factory=list)
    mask: bytes | None = None


def content_type_error(received: str, expected: str) -> ApiError:
    return ApiError(
        400,
        f"Unsupported content type: '{received}'. This API method only accepts '{expected}' "
        f"requests, but you specified the header 'Content-Type: {received}'. Please try again "
        "with a supported content type.",
        code="unsupported_content_type",
    )


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)",
            code="invalid_json",
        )
    return data


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_generation_body(content_type: str, body: bytes) -> FormBody:
    if media_type(content_type) != "application/json":
        raise content_type_error(content_type, "application/json")
    return FormBody(params=parse_json(body))


def parse_multipart(content_type: str, body: bytes) -> FormBody:
    """multipart/form-data through the stdlib email parser (`cgi` is gone since 3.13)."""
    if media_type(content_type) != "multipart/form-data" or "boundary=" not in content_type:
        raise content_type_error(content_type, "multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "Could not parse the multipart form body.", param=None)
    form = FormBody()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name in IMAGE_FIELDS:
            form.images.append(data)
        elif name == "mask":
            form.mask = data
        elif part.get_filename() is not None:
            form.params[name] = "<file>"
        else:
            form.params[name] = data.decode("utf-8", errors="replace")
    return form


def parse_fault(spec: str) -> tuple[str, float | None]:
    """'429' or '429:5' (retry-after 5 s) or 'timeout:3' (sleep 3 s) -> (name, argument)."""
    name, _, argument = str(spec).strip().lower().partition(":")
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {spec!r}; expected one of {', '.join(FAULT_NAMES)}")
    try:
        return name, float(argument) if argument else None
    except ValueError as error:
        raise ValueError(f"bad fault argument in {spec!r}") from error


def too_large() -> ApiError:
    return ApiError(413, "Request body too large.", code="body_too_large")


def read_body(stream: BinaryIO, headers: Mapping[str, str]) -> bytes:
    """The request body, by Content-Length or chunked transfer encoding."""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        return read_chunked(stream)
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError as error:
        raise ApiError(400, "Invalid Content-Length header.", code="invalid_request") from error
    if length > MAX_BODY_BYTES:
        raise too_large()
    return stream.read(length) if length > 0 else b""


def read_chunked(stream: BinaryIO) -> bytes:
    chunks, total = [], 0
    while size := int(stream.readline(1024).split(b";")[0].strip() or b"0", 16):
        total += size
        if total > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(stream.read(size))
        stream.readline(8)
    while stream.readline(8192).strip():
        pass  # trailers
    return b"".join(chunks)
