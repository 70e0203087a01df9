"""One specification per operation: the page's form, `/v1/images/*`, `createTask`, the OpenAPI
document and the offline stand-in refuse the same requests, naming the same field, and bodies
that cannot be parsed get a JSON 400, never a 500."""

import io
import json
from typing import Any

import pytest
import requests
from PIL import Image as PILImage

from playground.api.openapi import catalog_values, request_schema
from playground.catalog import spec
from playground.core.errors import ApiError
from playground.generations.forms import GenerationForm
from playground.generations.models import Generation
from playground.offline_api.validation import validate_request
from tests.api.conftest import MODEL
from tests.api.test_task_api import create, task_body

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = {"model": MODEL, "prompt": "a lighthouse", "size": "1024x1024", "quality": "low"}
# A refused value, the field each reader must name, and OpenAI's code for it.
REFUSED = [
    ({"quality": "ultra"}, "quality", "invalid_value"),
    ({"size": "13x7"}, "size", "invalid_value"),
    ({"n": 11}, "n", "integer_above_max_value"),
    ({"n": 0}, "n", "integer_below_min_value"),
    ({"output_format": "gif"}, "output_format", "invalid_value"),
    ({"output_compression": 50}, "output_compression", "unsupported_parameter"),
    ({"output_format": "jpeg", "background": "transparent"}, "background", "invalid_value"),
    ({"moderation": "none"}, "moderation", "invalid_value"),
    ({"prompt": "x" * (spec.MAX_PROMPT_CHARS + 1)}, "prompt", "string_above_max_length"),
]


def post_v1(live_server: Any, secret: str, raw: bytes, content_type: str = "application/json"):
    return requests.post(
        live_server.url + "/v1/images/generations",
        data=raw,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": content_type},
        timeout=20,
    )


@pytest.mark.parametrize(("changes", "param", "code"), REFUSED)
def test_every_reader_refuses_the_same_value_naming_the_same_field(
    live_server, secret, provider, changes, param, code
):
    params = {**GOOD, **changes}
    # The page's form.
    form = GenerationForm(spec.defaults_for(provider_model()) | params)
    assert not form.is_valid() and param in form.errors
    # /v1/images/generations, in OpenAI's shape.
    answer = post_v1(live_server, secret, json.dumps(params).encode())
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["param"], error["code"]) == (param, code), error
    # createTask, in Kie's shape.
    task = create(live_server, secret, task_body(**{k: v for k, v in changes.items()}))
    assert task.status_code == 422, task.text
    assert task.json()["msg"].startswith(f"input.{param}: "), task.json()
    # The offline stand-in, as OpenAI.
    with pytest.raises(ApiError) as raised:
        validate_request("generations", params)
    assert raised.value.param == param
    assert not Generation.objects.exists()


def provider_model():  # type: ignore[no-untyped-def]
    from playground.catalog.models import ImageModel

    return ImageModel.objects.get(model_id=MODEL)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"prompt": "' + b"9" * 10 + b'", "n": 1' + b"0" * 5000 + b"}",
        b"\xff\xfe{",
        b"",
    ],
    ids=["nested-array", "nested-prompt", "huge-number", "not-utf8", "empty"],
)
def test_a_body_that_cannot_be_parsed_is_a_json_400(live_server, secret, provider, raw):
    answer = post_v1(live_server, secret, raw)
    assert answer.status_code == 400, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["type"] == "invalid_request_error"
    task = create(live_server, secret, None, raw=raw)
    assert task.status_code == 422 and task.json()["msg"].startswith("body: ")


def test_a_lone_surrogate_is_refused_naming_the_field(live_server, secret, provider):
    raw = b'{"model": "%s", "prompt": "a \\ud800 cat"}' % MODEL.encode()
    error = post_v1(live_server, secret, raw).json()["error"]
    assert (error["param"], error["code"]) == ("prompt", "invalid_value")
    assert "surrogate" in error["message"]
    body = b'{"model": "%s", "input": {"prompt": "\\udfff"}}' % MODEL.encode()
    task = create(live_server, secret, None, raw=body)
    assert task.status_code == 422 and task.json()["msg"].startswith("input.prompt: ")
    assert not Generation.objects.exists()


def test_a_malformed_multipart_edit_is_a_json_400(live_server, secret, provider):
    answer = requests.post(
        live_server.url + "/v1/images/edits",
        data=b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nunterminated',
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "multipart/form-data; boundary=xyz",
        },
        timeout=20,
    )
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_an_edit_takes_text_parts_as_the_specification_types_them(
    live_server, secret, provider, worker
):
    image = io.BytesIO()
    PILImage.new("RGB", (64, 64), "teal").save(image, "PNG")
    files = {"image[]": ("a.png", image.getvalue(), "image/png")}
    fields = {"model": MODEL, "prompt": "a hat", "n": "2", "quality": "low", "size": "1024x1024"}
    answer = requests.post(
        live_server.url + "/v1/images/edits",
        data=fields,
        files=files,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:300]
    assert len(answer.json()["data"]) == 2
    refused = requests.post(
        live_server.url + "/v1/images/edits",
        data={**fields, "n": "two"},
        files=files,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    ).json()["error"]
    assert (refused["param"], refused["code"]) == ("n", "invalid_type")


def test_the_document_describes_each_operation_from_its_specification(client, catalog):
    document = client.get("/api/openapi.json").json()["components"]["schemas"]
    for name, operation in [
        ("ImageGenerationRequest", spec.GenerateRequest),
        ("TaskInput", spec.TaskInput),
        ("CreateTaskRequest", spec.CreateTaskRequest),
    ]:
        assert set(document[name]["properties"]) == set(operation.model_fields), name
        assert document[name]["additionalProperties"] is False
    edit = set(document["ImageEditRequest"]["properties"])
    assert edit == set(spec.EditRequest.model_fields) | {"image", "image[]", "mask"}
    # The catalog's values, filled in at request time.
    values = catalog_values()
    quality = request_schema(spec.GenerateRequest, values)["properties"]["quality"]
    assert quality["enum"] == values["qualities"]
    assert (
        "gpt-image-2-text-to-image" in document["CreateTaskRequest"]["properties"]["model"]["enum"]
    )
    assert "16:9" in document["TaskInput"]["properties"]["aspect_ratio"]["enum"]
