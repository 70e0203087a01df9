"""Property-based tests of the APIs against their own OpenAPI document (schemathesis).

The document is loaded from the ASGI live server, as a client would load it; requests generated
from it (valid ones and deliberately invalid ones) go to the same server with a real API key,
and every answer must be no server error and must match the document: status code, content
type, headers and body. A worker runs the jobs on the stand-in upstream, so an images request
answers with its images. Operations are picked up from the document, so an endpoint that is
added to the server and the document is fuzzed too.
"""

import json
import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import MODEL

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Examples per operation and mode: enough to reach every error branch of the parsers, few
# enough to keep the whole run near half a minute.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 12}
# Operations where some generated valid requests must succeed. (An edit's generated files are
# random bytes, not images; a task's taskId or a result's token is never a real one.)
ACCEPTS_GENERATED = {
    "POST /v1/images/generations",
    "POST /api/v1/jobs/createTask",
    "GET /api/v1/me",
}
# Operations that make jobs: their valid requests are kept small, as a program's would be.
SMALL_JOB = {"n": 1, "size": "1024x1024", "quality": "low"}


def load_schema(live_server: Any) -> Any:
    return schemathesis.openapi.from_url(live_server.url + "/api/openapi.json")


def operations(schema: Any) -> dict[str, Any]:
    """Every operation of the document, by `METHOD /path` (a broken one fails the test)."""
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[f"{operation.method.upper()} {operation.path}"] = operation
    return found


def keep_jobs_small(case: Any) -> None:
    """A valid generated body may ask for ten 4K images at max quality; the stand-in would
    draw them all. Size, count and quality are set to small values in valid bodies only."""
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("input"), dict):
        body = body["input"]
    if isinstance(body, dict) and "prompt" in body:
        body.update({name: value for name, value in SMALL_JOB.items() if name in body})


def fuzz(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> list[int]:
    """Run `operation`'s generated cases in `mode`; returns the status codes answered."""
    sent: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        keep_jobs_small(case)
        response = case.call_and_validate(
            base_url=base_url, headers=headers, checks=CHECKS, timeout=60
        )
        sent.append(response.status_code)

    try:
        run()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (a path of any string, say).
        if mode is not GenerationMode.NEGATIVE:
            raise
    return sent


def test_the_document_loads_with_every_operation(live_server, catalog):
    found = operations(load_schema(live_server))
    assert {"POST /v1/images/generations", "POST /v1/images/edits", "GET /api/v1/me"} <= set(found)


@pytest.mark.parametrize(
    "operation_name",
    [
        "POST /v1/images/generations",
        "POST /v1/images/edits",
        "GET /api/v1/me",
        "POST /api/v1/jobs/createTask",
        "GET /api/v1/jobs/recordInfo",
        "GET /api/v1/results/{token}",
        "POST /api/file-base64-upload",
        "POST /api/file-stream-upload",
        "POST /api/file-url-upload",
        "GET /api/uploads/{token}/{name}",
    ],
)
def test_the_api_answers_as_its_document_says(live_server, secret, worker, operation_name):
    found = operations(load_schema(live_server))
    if operation_name not in found:
        pytest.skip(f"{operation_name} is not routed on this server")
    headers = {"Authorization": f"Bearer {secret}"}
    answered = fuzz(found[operation_name], GenerationMode.POSITIVE, live_server.url, headers)
    assert answered, "no request was sent"
    if operation_name in ACCEPTS_GENERATED:
        assert 200 in answered, f"no generated valid request was accepted: {answered}"
    fuzz(found[operation_name], GenerationMode.NEGATIVE, live_server.url, headers)


def test_a_real_task_and_its_result_match_the_document(live_server, secret, worker, alice):
    """Generated requests never hit a real taskId or result token: follow one task through
    its life, checking each answer (the record while queued and once done, the result image,
    a stream of events) against the document."""
    found = operations(load_schema(live_server))
    if "POST /api/v1/jobs/createTask" not in found:
        pytest.skip("the task API is not routed on this server")
    headers = {"Authorization": f"Bearer {secret}"}

    def call(name: str, **data: Any) -> Any:
        case = found[name].Case(**data)
        return case.call_and_validate(
            base_url=live_server.url, headers=headers, checks=CHECKS, timeout=60
        )

    created = call(
        "POST /api/v1/jobs/createTask",
        body={"model": MODEL, "input": {"prompt": "a red kite", **SMALL_JOB}},
        media_type="application/json",
    )
    assert created.status_code == 200
    task_id = created.json()["data"]["taskId"]
    record: dict[str, Any] = {}
    for _ in range(100):
        record = call("GET /api/v1/jobs/recordInfo", query={"taskId": task_id}).json()["data"]
        if record["state"] in ("success", "fail"):
            break
        time.sleep(0.1)
    assert record["state"] == "success", record
    (url,) = json.loads(record["resultJson"])["resultUrls"]
    token = url.rsplit("/", 1)[-1]
    image = call("GET /api/v1/results/{token}", path_parameters={"token": token})
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    streamed = call(
        "POST /v1/images/generations",
        body={"model": MODEL, "prompt": "a kite", "stream": True, "partial_images": 1, **SMALL_JOB},
        media_type="application/json",
    )
    assert streamed.status_code == 200
    assert "event: image_generation.completed" in streamed.text


def test_the_checks_catch_an_answer_the_document_does_not_describe(live_server, catalog):
    """The checks bite: with the 401 answer taken out of the document, a request without a
    key fails them."""
    document = requests.get(live_server.url + "/api/openapi.json", timeout=30).json()
    del document["paths"]["/api/v1/me"]["get"]["responses"]["401"]
    me = operations(schemathesis.openapi.from_dict(document))["GET /api/v1/me"]
    with pytest.raises(FailureGroup) as raised:
        me.Case().call_and_validate(base_url=live_server.url, checks=CHECKS, timeout=30)
    assert "Undocumented status code" in str(raised.value) and "401" in str(raised.value)


def test_a_rate_limited_answer_matches_the_document(live_server, secret, worker, settings):
    """Past the key's rate limit, the 429 (Retry-After, x-ratelimit-* headers, error body) is
    the one the document describes, on both APIs."""
    settings.API_RATE_LIMIT_PER_KEY = "1/hour"
    found = operations(load_schema(live_server))
    headers = {"Authorization": f"Bearer {secret}"}
    bodies = {
        "POST /v1/images/generations": {"model": MODEL, "prompt": "a kite", **SMALL_JOB},
        "POST /api/v1/jobs/createTask": {
            "model": MODEL,
            "input": {"prompt": "a kite", **SMALL_JOB},
        },
    }
    statuses = []
    for name, body in bodies.items():
        if name not in found:
            continue
        case = found[name].Case(body=body, media_type="application/json")
        response = case.call_and_validate(
            base_url=live_server.url, headers=headers, checks=CHECKS, timeout=60
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"][0]) > 0
            assert "x-ratelimit-reset-requests" in response.headers
    assert statuses[0] == 200 and set(statuses[1:]) <= {429}


def test_the_documents_links_lead_from_a_created_task_to_its_record(live_server, secret, worker):
    """Stateful: schemathesis follows the document's link from createTask's taskId to
    recordInfo, so the record of a task it queued itself is fetched and checked too."""
    schema = load_schema(live_server).include(path_regex="^/api/v1/jobs/")
    headers = {"Authorization": f"Bearer {secret}"}
    answered: list[tuple[str, int]] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            keep_jobs_small(case)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": live_server.url, "headers": headers, "timeout": 60}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            answered.append((case.operation.path, response.status_code))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=hypothesis_settings(
            max_examples=8,
            stateful_step_count=3,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert ("/api/v1/jobs/recordInfo", 200) in answered, answered
