"""Reference images and a mask named by URL in a task (`input_urls`, `mask_url`).

Three kinds of URL are taken:

- this server's own URLs naming one of the owner's images: a result URL
  (`/api/v1/results/<token>`), a gallery URL (`/gallery/<id>/`, `/gallery/<id>/original/`)
  or an uploaded file's `downloadUrl` (`/api/uploads/<token>/<name>`); they are read from the
  gallery or the storage, never fetched over HTTP;
- `data:image/...;base64,...` URLs, decoded here;
- any other http(s) URL, fetched only from a host an admin allowed (AllowedFetchHost), under
  the address rules of `outbound.fetch`.

The bytes then go through `prepare_edit_inputs` like an upload: decoded and checked for real.
Every refusal names the field (`input.input_urls[2]`) and the reason.
"""

import base64
import binascii
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.urls import Resolver404, resolve

from playground.api import outbound
from playground.api.task_records import image_for_token
from playground.core.query import parse_id
from playground.file_uploads.resolve import UploadUnusable, uploaded_bytes
from playground.gallery.models import Image
from playground.generations.edit_inputs import (
    MAX_REFERENCES,
    EditInputs,
    InputsRefused,
    prepare_edit_inputs,
)

MAX_URL_CHARS = 2000  # an http(s) URL; data URLs are bounded by the byte cap instead
GALLERY_VIEWS = {"image-detail", "image-original"}
RESULT_VIEW = "api-task-result"
INPUT_URLS = "input.input_urls"
MASK_URL = "input.mask_url"


class InputUrlRefused(ValueError):
    """A reference or mask URL that cannot be used: `field` names it, `reason` says why."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass
class _FetchBudget:
    """What one task's fetches may take together: each fetch gets the time left of the
    task's API_FETCH_TIMEOUT_SECONDS and the bytes left of its API_FETCH_MAX_TOTAL_BYTES, so
    sixteen slow or large URLs cannot hold a request for minutes or fill its memory."""

    deadline: float
    bytes_left: int

    @classmethod
    def for_task(cls) -> "_FetchBudget":
        return cls(
            deadline=time.monotonic() + float(settings.API_FETCH_TIMEOUT_SECONDS),
            bytes_left=int(settings.API_FETCH_MAX_TOTAL_BYTES),
        )

    def seconds_left(self, field_name: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            limit = settings.API_FETCH_TIMEOUT_SECONDS
            raise InputUrlRefused(field_name, f"fetching the URLs took longer than {limit} s.")
        return left

    def take(self, content: bytes, field_name: str) -> bytes:
        self.bytes_left -= len(content)
        if self.bytes_left < 0:
            total = _size_text(int(settings.API_FETCH_MAX_TOTAL_BYTES))
            raise InputUrlRefused(field_name, f"the images together are larger than {total}.")
        return content


@dataclass
class _Sources:
    """What the URLs resolved to, in the order the program listed them."""

    uploads: list[SimpleUploadedFile] = field(default_factory=list)
    gallery_ids: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)


def _size_text(max_bytes: int) -> str:
    mb = 1024 * 1024
    return f"{max_bytes // mb} MB" if max_bytes >= mb else f"{max_bytes:,} bytes"


def _data_url_bytes(url: str, field_name: str) -> bytes:
    """The bytes of `data:image/<type>;base64,<payload>`."""
    header, comma, payload = url[len("data:") :].partition(",")
    params = [part.strip().lower() for part in header.split(";")]
    if not comma or not params[0].startswith("image/") or "base64" not in params[1:]:
        raise InputUrlRefused(
            field_name, "a data URL must look like data:image/png;base64,<base64 data>."
        )
    max_bytes = int(settings.API_FETCH_MAX_BYTES)
    payload = "".join(payload.split())  # line breaks some encoders insert
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise InputUrlRefused(field_name, f"the image is larger than {_size_text(max_bytes)}.")
    try:
        content = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputUrlRefused(field_name, "the data URL is not valid base64.") from error
    if len(content) > max_bytes:
        raise InputUrlRefused(field_name, f"the image is larger than {_size_text(max_bytes)}.")
    if not content:
        raise InputUrlRefused(field_name, "the data URL holds no data.")
    return content


def _own_image_id(owner: Any, path: str, field_name: str) -> int:
    """The owner's image a path of this server names (a result or gallery URL)."""
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is None or match.url_name not in GALLERY_VIEWS | {RESULT_VIEW}:
        raise InputUrlRefused(
            field_name,
            "this server's URL names no image; use a result URL or /gallery/<id>/.",
        )
    if match.url_name == RESULT_VIEW:
        try:
            image_id = image_for_token(match.kwargs["token"])
        except signing.SignatureExpired as error:
            raise InputUrlRefused(field_name, "the result URL has expired.") from error
        except signing.BadSignature as error:
            raise InputUrlRefused(field_name, "the result URL is not valid.") from error
    else:
        image_id = parse_id(str(match.kwargs["pk"]))  # in a database id's range, or None
    if image_id is None:
        raise InputUrlRefused(field_name, "the URL names no image in your gallery.")
    owned = Image.objects.for_user(owner).filter(pk=image_id, generation__deleted_at__isnull=True)
    if not owned.exists():
        raise InputUrlRefused(field_name, "the URL names no image in your gallery.")
    return image_id


def _fetched_bytes(url: str, host: str, field_name: str, budget: _FetchBudget) -> bytes:
    if not outbound.host_allowed_for_fetch(host):
        raise InputUrlRefused(field_name, f"the host {host} is not allowed; an admin can allow it.")
    try:
        fetched = outbound.fetch(
            url,
            max_bytes=min(int(settings.API_FETCH_MAX_BYTES), max(0, budget.bytes_left)),
            timeout=budget.seconds_left(field_name),
        )
    except outbound.RefusedUrl as refused:
        budget.seconds_left(field_name)  # the task's time ran out: say that, not this fetch's
        raise InputUrlRefused(field_name, str(refused)) from refused
    if not fetched.content:
        raise InputUrlRefused(field_name, "fetching it returned no data.")
    return fetched.content


def _resolve(
    owner: Any,
    request: HttpRequest,
    url: str,
    names: tuple[str, str],
    budget: _FetchBudget,
) -> SimpleUploadedFile | int:
    """An upload of the URL's bytes, or the id of the owner's image it names. `names` are
    the field's name in errors and the upload's name."""
    field_name, upload_name = names
    if url[:5].lower() == "data:":
        content = budget.take(_data_url_bytes(url, field_name), field_name)
        return SimpleUploadedFile(upload_name, content)
    if len(url) > MAX_URL_CHARS:
        raise InputUrlRefused(field_name, f"the URL is longer than {MAX_URL_CHARS} characters.")
    try:
        parts, host = outbound.split_http_url(url)
    except outbound.RefusedUrl as refused:
        raise InputUrlRefused(
            field_name, f"{refused} Use an http(s) URL or a data:image/...;base64 URL."
        ) from refused
    if parts.netloc.lower() == request.get_host().lower():
        try:  # an upload's downloadUrl (File Upload API), read from storage
            uploaded = uploaded_bytes(owner, parts.path)
        except UploadUnusable as refused:
            raise InputUrlRefused(field_name, str(refused)) from refused
        if uploaded is not None:
            return SimpleUploadedFile(upload_name, budget.take(uploaded, field_name))
        return _own_image_id(owner, parts.path, field_name)
    content = budget.take(_fetched_bytes(url, host, field_name, budget), field_name)
    return SimpleUploadedFile(upload_name, content)


def _image_upload(owner: Any, image_id: int, name: str) -> SimpleUploadedFile:
    """One of the owner's images as an upload (a mask given by a gallery or result URL)."""
    image = Image.objects.for_user(owner).get(pk=image_id)
    with image.file.open("rb") as stored:
        return SimpleUploadedFile(name, stored.read())


def _field_of(message: str, default: str) -> tuple[str, str]:
    """(field, reason) of a message `prepare_edit_inputs` gave, which starts with the name the
    upload was given (`input_urls[2]: ...`) when it is about one of them."""
    name, sep, reason = message.partition(": ")
    if sep and (name.startswith("input_urls[") or name == "mask_url"):
        return f"input.{name}", reason
    return default, message


def task_edit_inputs(
    owner: Any, request: HttpRequest, input_urls: list[str], mask_url: str | None
) -> EditInputs:
    """The references and mask the URLs name, checked and ready to stage; raises
    InputUrlRefused. Nothing is written: the caller stages them, or discards them."""
    if len(input_urls) > MAX_REFERENCES:
        raise InputUrlRefused(
            INPUT_URLS, f"at most {MAX_REFERENCES} URLs ({len(input_urls)} given)."
        )
    sources = _Sources()
    budget = _FetchBudget.for_task()
    for index, url in enumerate(input_urls):
        names = (f"{INPUT_URLS}[{index}]", f"input_urls[{index}]")
        source = _resolve(owner, request, url, names, budget)
        if isinstance(source, int):
            sources.gallery_ids.append(str(source))
            sources.order.append(f"gallery:{source}")
        else:
            sources.uploads.append(source)
            sources.order.append("upload")
    mask = None
    if mask_url:
        if not input_urls:
            raise InputUrlRefused(MASK_URL, "a mask needs input_urls: the image it applies to.")
        resolved = _resolve(owner, request, mask_url, (MASK_URL, "mask_url"), budget)
        mask = _image_upload(owner, resolved, "mask_url") if isinstance(resolved, int) else resolved
    try:
        return prepare_edit_inputs(
            owner, sources.uploads, sources.gallery_ids, ",".join(sources.order), mask
        )
    except InputsRefused as refused:
        name, messages = next(iter(refused.errors.items()))
        default = MASK_URL if name == "mask" else INPUT_URLS
        raise InputUrlRefused(
            *_field_of(messages[0] if messages else "the images were refused.", default)
        ) from refused
