"""Turning an Images API request body (JSON or multipart) into the playground's form and inputs."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from playground.api.responses import ApiError, invalid
from playground.catalog.models import ImageModel
from playground.generations.edit_inputs import MAX_REFERENCES

STRING_PARAMS = {
    "model",
    "prompt",
    "size",
    "quality",
    "output_format",
    "background",
    "moderation",
    "input_fidelity",
}
INTEGER_PARAMS = {"n", "output_compression", "partial_images"}
IGNORED_PARAMS = {"user", "safety_identifier"}  # accepted, as OpenAI does, and not used
GENERATION_PARAMS = (STRING_PARAMS - {"input_fidelity"}) | INTEGER_PARAMS | IGNORED_PARAMS
EDIT_PARAMS = (STRING_PARAMS - {"moderation"}) | INTEGER_PARAMS | IGNORED_PARAMS
EDIT_FILES = {"image", "image[]", "mask"}


@dataclass
class ImagesRequest:
    """What a request asks for: the form's data, and for an edit its files."""

    params: dict[str, Any]
    stream: bool = False
    images: list[UploadedFile] = field(default_factory=list)
    mask: UploadedFile | None = None

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


def _stream_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise invalid("stream", "stream must be true or false.")


def _check_value(name: str, value: Any) -> Any:
    """The value as the form takes it; a clear error for a wrong type."""
    if name in INTEGER_PARAMS:
        if isinstance(value, float) and value.is_integer():
            return int(value)  # 2.0 is a whole number, as JSON Schema counts it
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(name, f"{name} must be an integer.")
        return value
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be a string.")
    return value


def _collect(fields: dict[str, Any], allowed: set[str]) -> tuple[dict[str, Any], bool]:
    params: dict[str, Any] = {}
    stream = False
    for name, value in fields.items():
        if name == "response_format":
            raise invalid(
                name,
                "response_format is not supported for GPT image models: they always return "
                "b64_json.",
            )
        if name == "stream":
            stream = _stream_flag(value)
            continue
        if name not in allowed:
            raise invalid(name, f"Unknown parameter: '{name}'.", code="unknown_parameter")
        if name in IGNORED_PARAMS or value is None:
            continue
        params[name] = _check_value(name, value)
    if "partial_images" in params and not stream:
        # Previews only exist as stream events; OpenAI refuses them without a stream.
        raise invalid("partial_images", "partial_images requires stream=true.")
    return params, stream


def parse_generation_request(request: HttpRequest) -> ImagesRequest:
    """A JSON body of `POST /v1/images/generations`."""
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(None, f"The request body is not valid JSON: {error}.") from error
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.")
    params, stream = _collect(body, GENERATION_PARAMS)
    return ImagesRequest(params=params, stream=stream)


def parse_edit_request(request: HttpRequest) -> ImagesRequest:
    """A multipart body of `POST /v1/images/edits`: `image` or `image[]` files and a `mask`."""
    if not request.content_type.startswith("multipart/form-data"):
        raise invalid(None, "Send an edit as multipart/form-data, with the images as files.")
    try:
        fields = {name: request.POST.get(name) for name in request.POST}
        files = request.FILES
    except MultiPartParserError as error:
        raise invalid(None, f"The multipart body could not be read: {error}.") from error
    for name in files:
        if name not in EDIT_FILES:
            raise invalid(name, f"Unknown file field: '{name}'.", code="unknown_parameter")
    for name in request.POST:
        if name in EDIT_FILES:
            raise invalid(name, f"{name} must be sent as a file.")
        if len(request.POST.getlist(name)) > 1:
            raise invalid(name, f"{name} was given more than once.")
    params, stream = _collect(fields, EDIT_PARAMS)
    images = files.getlist("image[]") + files.getlist("image")
    if not images:
        raise invalid("image", "An edit needs at least one image.")
    if len(images) > MAX_REFERENCES:
        raise invalid("image", f"At most {MAX_REFERENCES} images ({len(images)} given).")
    masks = files.getlist("mask")
    if len(masks) > 1:
        raise invalid("mask", "Send one mask.")
    return ImagesRequest(
        params=params, stream=stream, images=images, mask=masks[0] if masks else None
    )


def find_model(model_id: str) -> ImageModel:
    """The active catalog model asked for; 404 model_not_found otherwise."""
    models = list(ImageModel.objects.active())
    if not model_id:
        if not models:
            raise ApiError(404, "No image model is offered.", param="model", code="model_not_found")
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
        param="model",
        code="model_not_found",
    )


def form_data(images_request: ImagesRequest, model: ImageModel, is_edit: bool) -> dict[str, Any]:
    """The generate form's data: what was asked, and OpenAI's defaults for what was not."""
    params = images_request.params
    defaults: dict[str, Any] = {
        "model": model.model_id,
        "n": 1,
        "size": "auto" if "auto" in model.sizes else model.default_size,
        "quality": "auto" if "auto" in model.qualities else (model.qualities or [""])[0],
        "output_format": "png",
        "background": "auto" if "auto" in model.backgrounds else (model.backgrounds or [""])[0],
        "moderation": "auto" if "auto" in model.moderations else (model.moderations or [""])[0],
    }
    if is_edit:
        # The edits endpoint takes no moderation setting; the form still wants one.
        params = {key: value for key, value in params.items() if key != "moderation"}
    return {**defaults, **params}


def unsupported_param(images_request: ImagesRequest, form_fields: Any) -> str | None:
    """A parameter that was given but that the chosen model does not take."""
    for name in ("partial_images", "input_fidelity"):
        if name in images_request.params and name not in form_fields:
            return name
    return None
