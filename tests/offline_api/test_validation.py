"""Unit tests of the request rules (pure functions, no server, no database)."""

import io
from typing import Any

import pytest
from PIL import Image

from playground.core.errors import ApiError
from playground.offline_api.validation import ImageRequest, validate_request

from .helpers import mask_bytes, png_bytes


def generate(**params: Any) -> ImageRequest:
    return validate_request("generations", {"model": "gpt-image-2", "prompt": "a cat", **params})


def edit(images: list[bytes], mask: bytes | None = None, **params: Any) -> ImageRequest:
    params = {"model": "gpt-image-1.5", "prompt": "add a hat", **params}
    return validate_request("edits", params, images, mask)


def rejected(kind: str = "generations", images=None, mask=None, **params: Any) -> ApiError:
    params = {"model": "gpt-image-2", "prompt": "a cat", **params}
    with pytest.raises(ApiError) as caught:
        validate_request(kind, params, images, mask)
    assert caught.value.status == 400
    return caught.value


def test_it_resolves_defaults_like_the_api() -> None:
    request = generate()
    assert (request.size, request.width, request.height) == ("1024x1024", 1024, 1024)
    assert request.quality == "medium"  # auto -> the model's default_quality
    assert (request.background, request.output_format, request.n) == ("opaque", "png", 1)
    assert generate(size="auto").size == "1024x1024"


def test_it_renders_openai_error_bodies() -> None:
    error = rejected(model="nope")
    assert error.body() == {
        "error": {
            "message": "The model `nope` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_it_refuses_a_retired_model_saying_it_was_shut_down() -> None:
    error = rejected(model="gpt-image-1")
    assert (error.param, error.code) == ("model", "model_not_found")
    assert "shut down" in error.message


@pytest.mark.parametrize("prompt", ["", "   "])
def test_it_rejects_an_empty_prompt(prompt: str) -> None:
    assert rejected(prompt=prompt).param == "prompt"


def test_it_rejects_a_missing_prompt() -> None:
    with pytest.raises(ApiError) as caught:
        validate_request("generations", {"model": "gpt-image-2"})
    assert caught.value.code == "missing_required_parameter"


def test_it_limits_the_prompt_to_32000_characters() -> None:
    assert generate(prompt="x" * 32000).prompt == "x" * 32000
    error = rejected(prompt="x" * 32001)
    assert (error.param, error.code) == ("prompt", "string_above_max_length")


@pytest.mark.parametrize("n", [0, 11, -1, True, "two", 1.5])
def test_it_rejects_bad_n(n: Any) -> None:
    assert rejected(n=n).param == "n"


def test_it_accepts_n_up_to_max_n_and_refuses_strings_in_json() -> None:
    assert generate(n=10).n == 10
    assert generate(n=3.0).n == 3
    assert rejected(n="3").code == "invalid_type"  # JSON is typed; edits' form fields are text


@pytest.mark.parametrize("model", ["gpt-image-1.5", "gpt-image-1-mini"])
@pytest.mark.parametrize("size", ["2048x2048", "1536x864", "512x512", "big"])
def test_it_rejects_sizes_outside_the_list_for_fixed_size_models(model: str, size: str) -> None:
    error = rejected(model=model, size=size)
    assert (error.param, error.code) == ("size", "invalid_value")


@pytest.mark.parametrize(
    "size",
    ["1536x864", "2048x2048", "3840x2160", "3072x1024", "1024x3072", "1024x640", "2560x1440"],
)
def test_it_accepts_free_sizes_for_gpt_image_2(size: str) -> None:
    request = generate(size=size)
    assert request.size == size
    assert validate_request(
        "generations", {"model": "gpt-image-2.5-flare", "prompt": "p", "size": size}
    )


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("1000x1000", "multiples of 16"),
        ("4000x1008", "longest edge"),
        ("3856x2160", "longest edge"),
        ("3072x1008", "aspect ratio"),
        ("1008x3072", "aspect ratio"),
        ("800x800", "total pixels"),  # 640,000 < 655,360
        ("3840x2176", "total pixels"),  # 8,355,840 > 8,294,400
        ("0x1024", "Supported values"),
        ("1024x", "Supported values"),
    ],
)
def test_it_rejects_free_sizes_breaking_a_rule(size: str, reason: str) -> None:
    error = rejected(size=size)
    assert error.param == "size"
    assert reason in error.message


def test_it_checks_quality_against_the_model() -> None:
    assert rejected(quality="xhigh").param == "quality"
    assert generate(model="gpt-image-2.5-sunburst", quality="xhigh").quality == "xhigh"
    assert generate(quality="high").quality == "high"


def test_it_checks_output_format() -> None:
    assert rejected(output_format="gif").param == "output_format"
    assert generate(output_format="webp").output_format == "webp"


def test_it_rejects_output_compression_with_png() -> None:
    assert rejected(output_compression=50).param == "output_compression"
    assert rejected(output_format="png", output_compression=50).param == "output_compression"
    assert generate(output_format="jpeg", output_compression=50).output_compression == 50
    assert rejected(output_format="webp", output_compression=101).param == "output_compression"


def test_it_rejects_transparent_background_with_jpeg() -> None:
    assert rejected(background="transparent", output_format="jpeg").param == "background"
    assert generate(background="transparent", output_format="webp").background == "transparent"
    assert generate(background="transparent").background == "transparent"


def test_it_checks_moderation() -> None:
    assert rejected(moderation="high").param == "moderation"
    assert generate(moderation="low").moderation == "low"


def test_it_allows_partial_images_only_with_stream() -> None:
    assert rejected(partial_images=2).param == "partial_images"
    assert rejected(stream=True, partial_images=4).param == "partial_images"
    request = generate(stream=True, partial_images=3)
    assert (request.stream, request.partial_images) == (True, 3)


def test_it_rejects_response_format_for_gpt_image_models() -> None:
    error = rejected(response_format="b64_json")
    assert (error.param, error.code) == ("response_format", "unsupported_parameter")


def test_it_rejects_unknown_parameters() -> None:
    error = rejected(colour="red")
    assert (error.param, error.code) == ("colour", "unknown_parameter")
    assert rejected(input_fidelity="low").code == "unknown_parameter"  # edits only


def test_it_accepts_input_fidelity_only_where_the_model_supports_it() -> None:
    image = png_bytes((64, 64))
    params = {"prompt": "p", "input_fidelity": "high"}
    assert edit([image], **params).input_fidelity == "high"
    error = rejected("edits", [image], model="gpt-image-2", input_fidelity="high")
    assert (error.param, error.code) == ("input_fidelity", "unsupported_parameter")
    error = rejected("edits", [image], model="gpt-image-2", input_fidelity="low")
    assert error.param == "input_fidelity"
    error = rejected("edits", [image], model="gpt-image-1-mini", input_fidelity="high")
    assert error.param == "input_fidelity"
    assert edit([image], model="gpt-image-1-mini", input_fidelity="low").input_fidelity == "low"


def test_it_reads_stream_from_form_strings() -> None:
    request = edit([png_bytes((64, 64))], stream="true", partial_images="2", n="2")
    assert (request.stream, request.partial_images, request.n) == (True, 2, 2)
    assert not edit([png_bytes((64, 64))], stream="false").stream


def test_it_decodes_edit_images() -> None:
    request = edit([png_bytes((64, 48)), png_bytes((20, 30))])
    assert [(i.width, i.height, i.format) for i in request.images] == [
        (64, 48, "png"),
        (20, 30, "png"),
    ]


def test_it_needs_between_1_and_16_images() -> None:
    image = png_bytes((16, 16))
    assert len(edit([image] * 16).images) == 16
    assert rejected("edits", [image] * 17).param == "image"
    assert rejected("edits", []).code == "missing_required_parameter"


def test_it_names_the_image_that_is_not_an_image() -> None:
    error = rejected("edits", [png_bytes((16, 16)), b"not a picture"])
    assert error.param == "image"
    assert "image[1]" in error.message


def test_it_rejects_image_formats_other_than_png_webp_jpeg() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")
    error = rejected("edits", [buffer.getvalue()])
    assert "image[0]" in error.message and "GIF" in error.message


def test_it_accepts_a_mask_with_alpha_of_the_first_image_size() -> None:
    request = edit([png_bytes((64, 64)), png_bytes((32, 32))], mask_bytes((64, 64), (8, 8, 20, 20)))
    assert request.mask is not None and (request.mask.width, request.mask.height) == (64, 64)


def test_it_rejects_a_mask_without_alpha() -> None:
    error = rejected("edits", [png_bytes((64, 64))], png_bytes((64, 64), (0, 0, 0)))
    assert (error.param, error.code) == ("mask", "invalid_mask")
    assert "alpha" in error.message


def test_it_rejects_a_mask_of_another_size() -> None:
    error = rejected("edits", [png_bytes((64, 64))], mask_bytes((32, 64), (0, 0, 5, 5)))
    assert error.param == "mask"
    assert error.message == "Invalid mask image: mask size 32x64 does not match image size 64x64."


def test_it_rejects_a_mask_that_is_not_png() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64)).save(buffer, "WEBP")
    assert rejected("edits", [png_bytes((64, 64))], buffer.getvalue()).param == "mask"
    assert rejected("edits", [png_bytes((64, 64))], b"garbage").param == "mask"
