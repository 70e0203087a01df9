"""The Images API's requests, each parameter described once.

One pydantic model per operation (generate, edit, task) gives every parameter its type,
limits and default; `check_for_model` checks the values a catalog model allows. Everything
that reads a request derives from here: the page's form (its limits and cross-field rules),
`/v1/images/*`, `createTask`, the OpenAPI document (the models' JSON Schema, with the
catalog's values filled in at run time) and the offline stand-in. Errors are `ApiError`s in
OpenAI's words and codes (`invalid_value`, `integer_above_max_value`, ...), naming the field.
"""

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

from playground.catalog.models import free_size_error
from playground.catalog.tokens import parse_size
from playground.core.errors import ApiError, invalid

MAX_PROMPT_CHARS = 32_000
MAX_N = 10
MAX_PARTIAL_IMAGES = 3
MAX_REFERENCES = 16
MAX_URL_CHARS = 2000
OUTPUT_FORMATS = ("png", "jpeg", "webp")
LOSSY_FORMATS = ("jpeg", "webp")
ALPHA_FORMATS = ("png", "webp")
# Parameters of other image models that GPT image models refuse, with a reason.
UNSUPPORTED_PARAMS = {
    "response_format": "GPT image models always return b64_json",
    "style": "it applies only to dall-e-3",
}
FORM_CONTEXT = {"form": True}  # multipart and HTML form fields: every value is text


# ---------------------------------------------------------------- value types


def _text(value: Any) -> Any:
    """A string that can be stored and sent: no NUL character, no unpaired surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("nul_character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError("unpaired_surrogate") from error
    return value


def _whole_number(value: Any, info: ValidationInfo) -> Any:
    """An integer; 2.0 counts (as JSON Schema counts it); form fields arrive as text."""
    if isinstance(value, bool):
        raise ValueError("invalid_type")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (info.context or {}).get("form"):
        text = value.strip()
        if text.lstrip("-").isdigit() and text.isascii():
            return int(text)
    if not isinstance(value, int):
        raise ValueError("invalid_type")
    return value


def _flag(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and (info.context or {}).get("form"):
        text = value.strip().lower()
        if text in ("true", "1", "false", "0"):
            return text in ("true", "1")
    if not isinstance(value, bool):
        raise ValueError("invalid_type")
    return value


Text = Annotated[str, BeforeValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def text(**limits: Any) -> Any:
    """A Text with limits (min_length, max_length), checked after the text rules."""
    return Annotated[str, Field(**limits), BeforeValidator(_text)]


def whole(low: int, high: int) -> Any:
    """An integer from `low` to `high`."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_whole_number)]


def catalog(attribute: str, description: str) -> Any:
    """A string whose allowed values are a catalog model's `attribute` (filled in at run time)."""
    return Field(default=None, description=description, json_schema_extra={"x-catalog": attribute})


# ---------------------------------------------------------------- the operations


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ImageParams(_Strict):
    """What every image request takes (the Images API's names)."""

    prompt: text(min_length=1, max_length=MAX_PROMPT_CHARS) = Field(
        description="What the image should show (no NUL characters).",
        examples=["A watercolour lighthouse at dusk"],
    )
    n: whole(1, MAX_N) | None = Field(
        default=None,
        description="How many images to make (at most the model's max_n); 1 when left out.",
        json_schema_extra={"x-catalog": "max_n"},
    )
    size: text(max_length=20) | None = Field(
        default=None,
        description="WIDTHxHEIGHT in pixels, or auto.",
        json_schema_extra={"x-catalog": "sizes"},
    )
    quality: Text | None = catalog("qualities", "Rendering quality.")
    output_format: Text | None = catalog("output_formats", "The images' file format.")
    output_compression: whole(0, 100) | None = Field(
        default=None, description="Compression in percent, for jpeg and webp only."
    )
    background: Text | None = catalog("backgrounds", "transparent needs png or webp.")


class _OpenAIOnly(_Strict):
    model: Text | None = catalog(
        "models", "The catalog's model id; the first active model when left out."
    )
    stream: Flag = Field(
        default=False,
        description="Answer with Server-Sent Events (text/event-stream) instead of JSON.",
    )
    partial_images: whole(0, MAX_PARTIAL_IMAGES) | None = Field(
        default=None,
        description="Previews sent before the final image; more than 0 needs stream=true.",
    )
    user: Text | None = Field(default=None, description="Accepted, as OpenAI does, and not used.")
    safety_identifier: Text | None = Field(
        default=None, description="Accepted, as OpenAI does, and not used."
    )


class GenerateRequest(ImageParams, _OpenAIOnly):
    """`POST /v1/images/generations` (JSON)."""

    moderation: Text | None = catalog("moderations", "Content moderation strictness.")


class EditRequest(ImageParams, _OpenAIOnly):
    """`POST /v1/images/edits` (multipart): these text parts, plus `image`/`image[]` and `mask`
    file parts. The edits endpoint takes no `moderation`."""

    input_fidelity: Text | None = catalog(
        "input_fidelities",
        "How closely an edit keeps the details of its references; only some models take it.",
    )


class TaskInput(ImageParams):
    """`input` of `createTask`: the Images API's parameters, reference URLs, and Kie's own
    `aspect_ratio` and `resolution`, which map to a size the model takes."""

    moderation: Text | None = catalog("moderations", "Content moderation strictness.")
    input_fidelity: Text | None = catalog(
        "input_fidelities",
        "How closely an edit keeps the details of its references; only some models take it.",
    )
    input_urls: Annotated[list[Text], Field(max_length=MAX_REFERENCES)] | None = Field(
        default=None,
        description="Reference images for an edit: this playground's result, gallery or "
        "upload URLs, data: URLs, or hosts an admin allowed.",
    )
    mask_url: Text | None = Field(default=None, description="A mask for the first reference.")
    aspect_ratio: Text | None = catalog(
        "aspect_ratios", "Kie's aspect ratio; with resolution, it picks the size."
    )
    resolution: Text | None = catalog("resolutions", "Kie's resolution (with aspect_ratio).")


class CreateTaskRequest(_Strict):
    """`POST /api/v1/jobs/createTask` (JSON)."""

    model: text(min_length=1) = Field(
        description="The catalog's model id, or one of Kie's model ids.",
        json_schema_extra={"x-catalog": "task_models"},
    )
    callBackUrl: text(max_length=MAX_URL_CHARS) | None = Field(
        default=None,
        description="Where the task's record is POSTed when it ends. Private addresses are "
        "refused.",
    )
    input: TaskInput


# ---------------------------------------------------------------- parsing and its errors


def parse(model: type[BaseModel], data: Any, *, form: bool = False, prefix: str = "") -> Any:
    """`data` checked against `model`; the first problem as an ApiError naming its field."""
    if isinstance(data, dict):
        for name in data:
            if name in UNSUPPORTED_PARAMS and name not in model.model_fields:
                raise invalid(
                    _path(prefix, (name,)),
                    f"The '{name}' parameter is not supported: {UNSUPPORTED_PARAMS[name]}.",
                    "unsupported_parameter",
                )
    try:
        return model.model_validate(data, context=FORM_CONTEXT if form else None)
    except ValidationError as error:
        raise refusal(error, prefix) from None


def _path(prefix: str, loc: Sequence[Any]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def refusal(error: ValidationError, prefix: str = "") -> ApiError:
    """The first problem pydantic found, in OpenAI's words and codes."""
    problem = error.errors(include_url=False)[0]
    loc = tuple(problem["loc"])
    param = _path(prefix, loc) or None
    name = param or "body"
    kind, given, ctx = problem["type"], problem.get("input"), problem.get("ctx") or {}
    reason = str(ctx.get("error", "")) if kind == "value_error" else ""
    expected = {
        "int_type": "an integer",
        "int_parsing": "an integer",
        "int_from_float": "an integer",
        "string_type": "a string",
        "bool_type": "a boolean",
        "bool_parsing": "a boolean",
        "list_type": "an array",
        "model_type": "an object",
        "model_attributes_type": "an object",
        "dict_type": "an object",
    }
    if kind == "extra_forbidden":
        return invalid(param, f"Unknown parameter: '{name}'.", "unknown_parameter")
    if kind == "missing":
        return invalid(
            param, f"Missing required parameter: '{name}'.", "missing_required_parameter"
        )
    if kind in expected or reason == "invalid_type":
        want = expected.get(kind) or _expected_of(error, loc)
        return invalid(
            param,
            f"Invalid type for '{name}': expected {want}, but got {_kind(given)} instead.",
            "invalid_type",
        )
    if reason == "nul_character":
        return invalid(param, f"Invalid '{name}': it contains a NUL character.", "invalid_value")
    if reason == "unpaired_surrogate":
        return invalid(
            param,
            f"Invalid '{name}': it contains an unpaired surrogate (\\ud800-\\udfff), which is "
            "not valid Unicode text.",
            "invalid_value",
        )
    if kind == "greater_than_equal":
        return invalid(
            param,
            f"Invalid '{name}': integer below minimum value. Expected a value >= "
            f"{ctx.get('ge')}, but got {given} instead.",
            "integer_below_min_value",
        )
    if kind == "less_than_equal":
        return invalid(
            param,
            f"Invalid '{name}': integer above maximum value. Expected a value <= "
            f"{ctx.get('le')}, but got {given} instead.",
            "integer_above_max_value",
        )
    if kind == "string_too_short":
        return invalid(
            param,
            f"Invalid '{name}': empty string. Expected a string with minimum length "
            f"{ctx.get('min_length', 1)}, but got an empty string instead.",
            "empty_string",
        )
    if kind == "string_too_long":
        return invalid(
            param,
            f"Invalid '{name}': string too long. Expected a string with maximum length "
            f"{ctx.get('max_length')}, but got a string with length {len(str(given))} instead.",
            "string_above_max_length",
        )
    if kind == "too_long":
        return invalid(
            param,
            f"Invalid '{name}': array too long. Expected an array with maximum length "
            f"{ctx.get('max_length')}, but got an array with length "
            f"{ctx.get('actual_length')} instead.",
            "array_above_max_length",
        )
    return invalid(param, f"Invalid '{name}': {problem['msg']}.", "invalid_value")


def _expected_of(error: ValidationError, loc: tuple[Any, ...]) -> str:
    """What a field with a custom type check expects (the validator raised invalid_type)."""
    last = str(loc[-1]) if loc else ""
    if last in ("stream",):
        return "a boolean"
    return "an integer"


# ---------------------------------------------------------------- a model's values


class ModelValues(Protocol):
    """What a catalog model allows (ImageModel, or a stand-in's reference model)."""

    model_id: str
    sizes: list[str]
    free_size: dict[str, Any] | None
    qualities: list[str]
    output_formats: list[str]
    backgrounds: list[str]
    moderations: list[str]
    input_fidelities: list[str]
    supports_streaming: bool
    supports_edits: bool
    max_n: int
    default_size: str


def supported_values(values: Iterable[str]) -> str:
    quoted = [f"'{value}'" for value in values]
    if not quoted:
        return "none"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def one_of(param: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise invalid(
            param,
            f"Invalid value: '{value}'. Supported values are: {supported_values(allowed)}.",
            "invalid_value",
        )


def size_problem(model: ModelValues, size: str) -> str | None:
    """Why `model` does not take `size`, or None when it does."""
    if size in model.sizes:
        return None
    supported = f"Invalid value: '{size}'. Supported values are: {supported_values(model.sizes)}"
    if not model.free_size:
        return supported + "."
    try:
        width, height = parse_size(size)
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        return supported + ", or WIDTHxHEIGHT in pixels within the model's rules."
    if problem := free_size_error(model.free_size, size):
        return f"Invalid size '{size}': {problem}"
    return None


def output_problems(
    output_format: str | None, compression: int | None, background: str | None
) -> list[tuple[str, str, str]]:
    """(param, message, code) for the rules between format, compression and background."""
    problems = []
    if compression is not None and (output_format or "png") not in LOSSY_FORMATS:
        problems.append(
            (
                "output_compression",
                "Compression applies only to JPEG or WebP output; PNG is always lossless. "
                "Clear it or choose JPEG or WebP.",
                "unsupported_parameter",
            )
        )
    if background == "transparent" and (output_format or "png") not in ALPHA_FORMATS:
        problems.append(
            (
                "background",
                "A transparent background needs PNG or WebP output; JPEG has no transparency.",
                "invalid_value",
            )
        )
    return problems


def check_for_model(
    params: BaseModel, model: ModelValues, *, is_edit: bool, prefix: str = ""
) -> None:
    """Refuse a value `model` does not take (raises ApiError naming the field)."""

    def at(name: str) -> str:
        return f"{prefix}{name}"

    given = params.model_dump(exclude_none=True)
    if is_edit and not model.supports_edits:
        raise invalid(at("image"), f"{model.model_id} does not take reference images.")
    n = given.get("n")
    if n is not None and n > model.max_n:
        raise invalid(
            at("n"),
            f"Invalid 'n': integer above maximum value. {model.model_id} makes at most "
            f"{model.max_n} images per request, but got {n} instead.",
            "integer_above_max_value",
        )
    if (size := given.get("size")) is not None and (problem := size_problem(model, size)):
        raise invalid(at("size"), problem)
    choices = {
        "quality": model.qualities,
        "output_format": [f for f in model.output_formats if f in OUTPUT_FORMATS],
        "background": model.backgrounds,
        "moderation": model.moderations,
    }
    for name, allowed in choices.items():
        if (value := given.get(name)) is not None:
            one_of(at(name), value, allowed)
    if (fidelity := given.get("input_fidelity")) is not None:
        if not model.input_fidelities:
            raise invalid(
                at("input_fidelity"),
                f"{model.model_id} does not take input_fidelity; omit it (it always keeps "
                "high fidelity).",
                "unsupported_parameter",
            )
        if is_edit:
            one_of(at("input_fidelity"), fidelity, model.input_fidelities)
    stream = bool(given.get("stream"))
    partial_images = given.get("partial_images") or 0
    if (stream or partial_images) and not model.supports_streaming:
        name = "stream" if stream else "partial_images"
        raise invalid(at(name), f"{model.model_id} does not stream.", "unsupported_parameter")
    if partial_images and not stream and "stream" in type(params).model_fields:
        raise invalid(
            at("partial_images"),
            "The 'partial_images' parameter is only supported when 'stream' is true.",
        )
    for name, message, code in output_problems(
        given.get("output_format"), given.get("output_compression"), given.get("background")
    ):
        raise invalid(at(name), message, code)


def defaults_for(model: ModelValues) -> dict[str, Any]:
    """The values a request that leaves them out gets (OpenAI's defaults, as the model allows)."""

    def first(values: Sequence[str], preferred: str = "auto") -> str:
        return preferred if preferred in values else (values[0] if values else "")

    return {
        "model": model.model_id,
        "n": 1,
        "size": "auto" if "auto" in model.sizes else model.default_size,
        "quality": first(model.qualities),
        "output_format": first(model.output_formats, "png"),
        "background": first(model.backgrounds),
        "moderation": first(model.moderations),
    }
