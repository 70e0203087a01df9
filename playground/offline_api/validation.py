"""Validation of Images API requests against the reference model specs, as OpenAI does it.

Pure functions: a dict of parameters (already decoded from JSON or multipart form fields), the
raw bytes of the reference images and of the mask go in; a normalized `ImageRequest` comes out,
or an `ApiError` that renders OpenAI's error body. The parameters are checked by the same
specification the playground's own API uses (catalog/spec.py), against the reference models.
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from playground.catalog import spec
from playground.catalog.tokens import parse_size
from playground.core.errors import ApiError, invalid
from playground.offline_api.inputs import InputImage, check_images, check_mask

__all__ = ["ApiError", "ImageRequest", "InputImage", "reference_models", "validate_request"]

REFERENCE_MODELS = Path(__file__).resolve().parent.parent / "catalog" / "reference_models.json"

ModelSpec = dict[str, Any]


@dataclass(frozen=True)
class ReferenceModel:
    """A reference model's values, as `spec.check_for_model` reads a catalog model's."""

    model_id: str
    sizes: list[str]
    free_size: dict[str, Any] | None
    qualities: list[str]
    output_formats: list[str]
    backgrounds: list[str]
    moderations: list[str]
    input_fidelities: list[str] = field(default_factory=list)
    supports_streaming: bool = True
    supports_edits: bool = True
    max_n: int = spec.MAX_N
    default_size: str = "1024x1024"

    @classmethod
    def of(cls, model: ModelSpec) -> "ReferenceModel":
        return cls(
            model_id=str(model["id"]),
            sizes=list(model["sizes"]),
            free_size=model.get("free_size"),
            qualities=list(model["qualities"]),
            output_formats=list(model["output_formats"]),
            backgrounds=list(model["backgrounds"]),
            moderations=list(model.get("moderations", ["auto", "low"])),
            input_fidelities=list(model.get("input_fidelities") or []),
            supports_streaming=bool(model.get("supports_streaming", True)),
            supports_edits=bool(model.get("supports_edits", True)),
            max_n=int(model.get("max_n", spec.MAX_N)),
            default_size=str(model["default_size"]),
        )


@dataclass(frozen=True)
class ImageRequest:
    """A request that passed validation, with `auto` values resolved where the API resolves them."""

    kind: str  # "generations" or "edits"
    model: ModelSpec
    prompt: str
    n: int
    size: str  # resolved WxH
    width: int
    height: int
    quality: str  # resolved (auto -> model default_quality)
    output_format: str
    output_compression: int | None
    background: str  # resolved: "opaque" or "transparent"
    moderation: str
    input_fidelity: str | None
    stream: bool
    partial_images: int
    images: tuple[InputImage, ...] = ()
    mask: InputImage | None = None

    @property
    def model_id(self) -> str:
        return str(self.model["id"])


@cache
def reference_models(path: Path = REFERENCE_MODELS) -> dict[str, ModelSpec]:
    """The models the stand-in knows, by id (includes retired ones)."""
    data = json.loads(path.read_text())
    return {spec["id"]: spec for spec in data["models"]}


def find_model(model_id: Any, models: dict[str, ModelSpec]) -> ModelSpec:
    if model_id is None or model_id == "":
        raise invalid("model", "Missing required parameter: 'model'.", "missing_required_parameter")
    model = models.get(str(model_id))
    if model is None:
        raise invalid(
            "model",
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "model_not_found",
        )
    if model.get("status") == "retired":
        raise invalid(
            "model",
            f"The model `{model_id}` has been shut down and is no longer available. "
            "Use a current GPT image model instead.",
            "model_not_found",
        )
    return model


def validate_request(
    kind: str,
    params: dict[str, Any],
    images: list[bytes] | None = None,
    mask: bytes | None = None,
    models: dict[str, ModelSpec] | None = None,
) -> ImageRequest:
    """Validate a generations or edits request; raises ApiError like the real API."""
    model = find_model(params.get("model"), reference_models() if models is None else models)
    values = ReferenceModel.of(model)
    if kind == "edits" and not values.supports_edits:
        raise invalid("model", f"Model '{values.model_id}' does not support image edits.")
    operation = spec.EditRequest if kind == "edits" else spec.GenerateRequest
    checked = spec.parse(operation, params, form=kind == "edits")  # edits are multipart
    if not checked.prompt.strip():
        raise invalid(
            "prompt",
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            "empty_string",
        )
    spec.check_for_model(checked, values, is_edit=kind == "edits")
    given = checked.model_dump(exclude_none=True)
    size = given.get("size", "auto")
    width, height = parse_size(model["default_size"] if size == "auto" else size)
    quality = given.get("quality", "auto")
    decoded = check_images(images or []) if kind == "edits" else ()
    if mask is not None and kind != "edits":
        raise invalid("mask", "A mask is only accepted by the edits endpoint.")
    fidelity = given.get("input_fidelity")
    if kind == "edits" and fidelity is None and values.input_fidelities:
        fidelity = values.input_fidelities[0]
    return ImageRequest(
        kind=kind,
        model=model,
        prompt=checked.prompt,
        n=given.get("n", 1),
        size=f"{width}x{height}",
        width=width,
        height=height,
        quality=model["default_quality"] if quality == "auto" else quality,
        output_format=given.get("output_format", "png"),
        output_compression=given.get("output_compression"),
        background="transparent" if given.get("background") == "transparent" else "opaque",
        moderation=given.get("moderation", "auto"),
        input_fidelity=fidelity,
        stream=bool(given.get("stream")),
        partial_images=given.get("partial_images") or 0,
        images=decoded,
        mask=check_mask(mask, decoded[0]) if mask is not None else None,
    )
