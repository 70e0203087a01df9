"""Validation of Images API requests against the reference model specs, as OpenAI does it.

Pure functions: a dict of parameters (already decoded from JSON or multipart form fields), the
raw bytes of the reference images and of the mask go in; a normalized `ImageRequest` comes out,
or an `ApiError` that renders OpenAI's error body.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playground.catalog.tokens import parse_size
from playground.offline_api.errors import ApiError, invalid
from playground.offline_api.inputs import InputImage, check_images, check_mask

__all__ = ["ApiError", "ImageRequest", "InputImage", "reference_models", "validate_request"]

REFERENCE_MODELS = Path(__file__).resolve().parent.parent / "catalog" / "reference_models.json"
MAX_PROMPT_CHARS = 32_000
MAX_PARTIAL_IMAGES = 3
OUTPUT_FORMATS = ("png", "jpeg", "webp")
COMMON_PARAMS = frozenset(
    [
        "model",
        "prompt",
        "n",
        "size",
        "quality",
        "output_format",
        "output_compression",
        "background",
        "moderation",
        "stream",
        "partial_images",
        "safety_identifier",
        "user",
        "complexity",
    ]
)
EDIT_PARAMS = COMMON_PARAMS | {"input_fidelity"}
# Parameters the SDK knows that only apply to retired or access-flagged features.
UNSUPPORTED_PARAMS = frozenset(
    ["response_format", "style", "svg", "frame_count", "frame_duration_ms", "markup"]
)

ModelSpec = dict[str, Any]


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
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    spec = models.get(str(model_id))
    if spec is None:
        raise invalid(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            "model",
            "model_not_found",
        )
    if spec.get("status") == "retired":
        raise invalid(
            f"The model `{model_id}` has been shut down and is no longer available. "
            "Use a current GPT image model instead.",
            "model",
            "model_not_found",
        )
    return spec


def _choices(values: list[str]) -> str:
    quoted = [f"'{value}'" for value in values]
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def one_of(params: dict[str, Any], name: str, allowed: list[str], default: str) -> str:
    value = params.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise invalid(f"Invalid value: '{value}'. Supported values are: {_choices(allowed)}.", name)
    return str(value)


def integer(params: dict[str, Any], name: str, low: int, high: int, default: int | None) -> Any:
    """An integer parameter within [low, high]; form fields arrive as strings."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(
            f"Invalid type for '{name}': expected an integer, but got {type(value).__name__}.",
            name,
            "invalid_type",
        )
    if value < low:
        raise invalid(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, "
            f"but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    if value > high:
        raise invalid(
            f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, "
            f"but got {value} instead.",
            name,
            "integer_above_max_value",
        )
    return value


def boolean(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise invalid(f"Invalid type for '{name}': expected a boolean.", name, "invalid_type")


def check_prompt(params: dict[str, Any]) -> str:
    prompt = params.get("prompt")
    if prompt is None:
        raise invalid(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    if not isinstance(prompt, str):
        raise invalid("Invalid type for 'prompt': expected a string.", "prompt", "invalid_type")
    if not prompt.strip():
        raise invalid(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            "prompt",
            "empty_string",
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise invalid(
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{MAX_PROMPT_CHARS}, but got a string with length {len(prompt)} instead.",
            "prompt",
            "string_above_max_length",
        )
    return prompt


def free_size_problem(width: int, height: int, rule: dict[str, Any]) -> str | None:
    """Why a WxH breaks the gpt-image-2 free-size rule, or None when it is fine."""
    multiple, max_aspect = int(rule["multiple"]), float(rule["max_aspect"])
    if width % multiple or height % multiple:
        return f"width and height must both be multiples of {multiple}"
    if max(width, height) > int(rule["max_edge"]):
        return f"the longest edge must be at most {rule['max_edge']} pixels"
    if max(width, height) > max_aspect * min(width, height):
        return f"the aspect ratio must be between 1:{rule['max_aspect']} and {rule['max_aspect']}:1"
    if not int(rule["min_pixels"]) <= width * height <= int(rule["max_pixels"]):
        return (
            f"the total pixel count must be between {rule['min_pixels']} and "
            f"{rule['max_pixels']}, got {width * height}"
        )
    return None


def resolve_size(params: dict[str, Any], spec: ModelSpec) -> tuple[int, int]:
    size = params.get("size")
    if size is None or size == "auto":
        return parse_size(spec["default_size"])
    sizes, rule = list(spec["sizes"]), spec.get("free_size")
    if not isinstance(size, str):
        raise invalid("Invalid type for 'size': expected a string.", "size", "invalid_type")
    if size in sizes:
        return parse_size(size)
    try:
        width, height = parse_size(size)
    except ValueError:
        width = height = 0
    if not rule or width <= 0 or height <= 0:
        raise invalid(f"Invalid value: '{size}'. Supported values are: {_choices(sizes)}.", "size")
    if problem := free_size_problem(width, height, rule):
        raise invalid(f"Invalid size '{size}': {problem}.", "size")
    return width, height


def check_parameters(params: dict[str, Any], kind: str) -> None:
    known = EDIT_PARAMS if kind == "edits" else COMMON_PARAMS
    for name in params:
        if name in UNSUPPORTED_PARAMS:
            raise invalid(
                f"The '{name}' parameter is not supported for GPT image models"
                + (" (they always return b64_json)." if name == "response_format" else "."),
                name,
                "unsupported_parameter",
            )
        if name not in known:
            raise invalid(f"Unknown parameter: '{name}'.", name, "unknown_parameter")


def check_output(params: dict[str, Any], spec: ModelSpec) -> tuple[str, int | None, str]:
    """output_format, output_compression and the resolved background."""
    formats = [f for f in spec["output_formats"] if f in OUTPUT_FORMATS]
    output_format = one_of(params, "output_format", formats, "png")
    compression = integer(params, "output_compression", 0, 100, None)
    if compression is not None and output_format == "png":
        raise invalid(
            "The 'output_compression' parameter is only supported with the jpeg and webp "
            "output formats, not png.",
            "output_compression",
            "unsupported_parameter",
        )
    background = one_of(params, "background", list(spec["backgrounds"]), "auto")
    if background == "transparent" and output_format not in ("png", "webp"):
        raise invalid(
            f"Transparent background is not supported with output_format '{output_format}'. "
            "Use png or webp.",
            "background",
        )
    return output_format, compression, "transparent" if background == "transparent" else "opaque"


def check_input_fidelity(params: dict[str, Any], spec: ModelSpec) -> str | None:
    value = params.get("input_fidelity")
    if value is None:
        return None
    allowed = list(spec.get("input_fidelities") or [])
    if not allowed:
        raise invalid(
            f"The 'input_fidelity' parameter is not supported for model '{spec['id']}'; "
            "omit it (this model always uses high fidelity).",
            "input_fidelity",
            "unsupported_parameter",
        )
    return one_of(params, "input_fidelity", allowed, allowed[0])


def check_streaming(params: dict[str, Any], spec: ModelSpec) -> tuple[bool, int]:
    stream = boolean(params, "stream")
    partial_images = integer(params, "partial_images", 0, MAX_PARTIAL_IMAGES, 0)
    if stream and not spec.get("supports_streaming", True):
        raise invalid(f"Model '{spec['id']}' does not support streaming.", "stream")
    if partial_images and not stream:
        raise invalid(
            "The 'partial_images' parameter is only supported when 'stream' is true.",
            "partial_images",
        )
    return stream, partial_images


def validate_request(
    kind: str,
    params: dict[str, Any],
    images: list[bytes] | None = None,
    mask: bytes | None = None,
    models: dict[str, ModelSpec] | None = None,
) -> ImageRequest:
    """Validate a generations or edits request; raises ApiError like the real API."""
    spec = find_model(params.get("model"), reference_models() if models is None else models)
    if kind == "edits" and not spec.get("supports_edits", True):
        raise invalid(f"Model '{spec['id']}' does not support image edits.", "model")
    check_parameters(params, kind)
    prompt = check_prompt(params)
    n = integer(params, "n", 1, int(spec.get("max_n", 10)), 1)
    width, height = resolve_size(params, spec)
    quality = one_of(params, "quality", list(spec["qualities"]), "auto")
    output_format, compression, background = check_output(params, spec)
    moderation = one_of(params, "moderation", list(spec.get("moderations", ["auto"])), "auto")
    fidelity = check_input_fidelity(params, spec) if kind == "edits" else None
    stream, partial_images = check_streaming(params, spec)
    decoded = check_images(images or []) if kind == "edits" else ()
    if mask is not None and kind != "edits":
        raise invalid("A mask is only accepted by the edits endpoint.", "mask")
    return ImageRequest(
        kind=kind,
        model=spec,
        prompt=prompt,
        n=n,
        size=f"{width}x{height}",
        width=width,
        height=height,
        quality=spec["default_quality"] if quality == "auto" else quality,
        output_format=output_format,
        output_compression=compression,
        background=background,
        moderation=moderation,
        input_fidelity=fidelity,
        stream=stream,
        partial_images=partial_images,
        images=decoded,
        mask=check_mask(mask, decoded[0]) if mask is not None else None,
    )
