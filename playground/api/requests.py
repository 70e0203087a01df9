"""Turning an Images API request body (JSON or multipart) into the playground's form and inputs.

The parameters are checked by the one specification of each operation (catalog/spec.py): its
types and limits first, then the values the chosen catalog model allows.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from pydantic import BaseModel

from playground.catalog import spec
from playground.catalog.models import ImageModel
from playground.core.errors import ApiError, invalid

EDIT_FILES = {"image", "image[]", "mask"}
# Parameters accepted, as OpenAI does, and not used.
IGNORED_PARAMS = {"user", "safety_identifier", "stream"}


@dataclass
class ImagesRequest:
    """What a request asks for: the checked parameters, and for an edit its files."""

    params: dict[str, Any]
    stream: bool = False
    images: list[UploadedFile] = field(default_factory=list)
    mask: UploadedFile | None = None
    checked: BaseModel | None = None

    @property
    def model_id(self) -> str:
        return str(self.params.get("model") or "")

    def fingerprint(self) -> str:
        """A digest of the parameters and files, the same for the same request resent."""
        digest = hashlib.sha256()
        digest.update(json.dumps({**self.params, "stream": self.stream}, sort_keys=True).encode())
        for upload in [*self.images, *([self.mask] if self.mask else [])]:
            digest.update(b"\0file\0")
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
        return digest.hexdigest()


def _images_request(checked: BaseModel) -> ImagesRequest:
    given = checked.model_dump(exclude_none=True)
    params = {name: value for name, value in given.items() if name not in IGNORED_PARAMS}
    return ImagesRequest(params=params, stream=bool(given.get("stream")), checked=checked)


def read_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from a request body; a 400 for anything else, however it is malformed
    (bad encoding, nesting past the parser's depth, a number with 100,000 digits)."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise invalid(
            None,
            f"We could not parse the JSON body of your request ({reason}). Send a JSON object.",
            "invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.", "invalid_json")
    return body


def parse_generation_request(request: HttpRequest) -> ImagesRequest:
    """A JSON body of `POST /v1/images/generations`."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.", code="request_too_large") from None
    return _images_request(spec.parse(spec.GenerateRequest, read_json_object(raw)))


def _multipart(request: HttpRequest) -> tuple[Any, Any]:
    try:
        return request.POST, request.FILES
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.", code="request_too_large") from None
    except (MultiPartParserError, TooManyFieldsSent, SuspiciousOperation, ValueError) as error:
        raise invalid(
            None, f"The multipart body could not be read: {error}.", "invalid_multipart"
        ) from None


def parse_edit_request(request: HttpRequest) -> ImagesRequest:
    """A multipart body of `POST /v1/images/edits`: `image` or `image[]` files and a `mask`."""
    if not request.content_type.startswith("multipart/form-data"):
        raise invalid(
            None,
            "Send an edit as multipart/form-data, with the images as files.",
            "invalid_content_type",
        )
    fields, files = _multipart(request)
    for name in files:
        if name not in EDIT_FILES:
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
    for name in fields:
        if name in EDIT_FILES:
            raise invalid(name, f"Invalid type for '{name}': expected a file.", "invalid_type")
        if len(fields.getlist(name)) > 1:
            raise invalid(name, f"'{name}' was given more than once.", "invalid_value")
    checked = spec.parse(spec.EditRequest, {name: fields.get(name) for name in fields}, form=True)
    images_request = _images_request(checked)
    images = files.getlist("image[]") + files.getlist("image")
    if not images:
        raise invalid("image", "Missing required parameter: 'image'.", "missing_required_parameter")
    if len(images) > spec.MAX_REFERENCES:
        raise invalid(
            "image",
            f"Invalid 'image': array too long. Expected at most {spec.MAX_REFERENCES} images, "
            f"but got {len(images)} instead.",
            "array_above_max_length",
        )
    masks = files.getlist("mask")
    if len(masks) > 1:
        raise invalid("mask", "'mask' was given more than once.", "invalid_value")
    images_request.images = images
    images_request.mask = masks[0] if masks else None
    return images_request


def find_model(model_id: str, param: str = "model") -> ImageModel:
    """The active catalog model asked for; 404 model_not_found otherwise."""
    models = list(ImageModel.objects.active())
    if not model_id:
        if not models:
            raise ApiError(404, "No image model is offered.", param=param, code="model_not_found")
        return models[0]
    for model in models:
        if model.model_id == model_id:
            return model
    retired = set(
        ImageModel.objects.exclude(status=ImageModel.Status.ACTIVE).values_list(
            "model_id", flat=True
        )
    )
    reason = "is retired and no longer offered" if model_id in retired else "does not exist"
    raise ApiError(
        404,
        f"The model '{model_id}' {reason}. Models offered: "
        f"{', '.join(m.model_id for m in models) or 'none'}.",
        param=param,
        code="model_not_found",
    )


def form_data(params: dict[str, Any], model: ImageModel, is_edit: bool) -> dict[str, Any]:
    """The generate form's data: what was asked, and OpenAI's defaults for what was not."""
    if is_edit:
        # The edits endpoint takes no moderation setting; the form still wants one.
        params = {key: value for key, value in params.items() if key != "moderation"}
    return {**spec.defaults_for(model), **params}
