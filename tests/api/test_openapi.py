"""The OpenAPI document (`/api/openapi.json`) and the API page (`/api/`)."""

import html
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from playground.catalog.models import ImageModel

pytestmark = pytest.mark.django_db

API_PREFIXES = ("v1/", "api/v1/", "api/file-", "api/uploads/")


def api_routes(patterns: Any = None, prefix: str = "") -> list[str]:
    """Every route of the project under `v1/` or `api/v1/`, as an OpenAPI path template."""
    routes: list[str] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIXES):
            if route.startswith("v1/<path:"):
                continue  # the catch-all that answers OpenAI's 404 for unknown paths
            routes.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes


def fetch_document(client: Any) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_document_is_valid_openapi_3_1(client, catalog):
    document = fetch_document(client)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error, including broken $refs


def test_the_validator_would_catch_a_broken_document(client, catalog):
    document = fetch_document(client)
    document["paths"]["/v1/images/generations"]["post"]["responses"]["200"] = {"content": {}}
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_every_api_route_is_documented(client, catalog):
    routes = api_routes()
    assert {"/v1/images/generations", "/v1/images/edits", "/api/v1/me"} <= set(routes)
    documented = set(fetch_document(client)["paths"])
    missing = [route for route in routes if route not in documented]
    assert not missing, f"routes missing from the OpenAPI document: {missing}"
    # ...and the document names no route the server does not have.
    assert documented <= set(routes)


def test_the_document_is_public_cacheable_and_names_this_server(client, catalog, settings):
    settings.ALLOWED_HOSTS = ["images.example.test"]
    response = client.get("/api/openapi.json", HTTP_HOST="images.example.test")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert response.json()["servers"] == [{"url": "http://images.example.test"}]


def test_the_document_refuses_writes(client, catalog):
    assert client.post("/api/openapi.json").status_code == 405
    assert client.head("/api/openapi.json").status_code == 200


def test_the_values_come_from_the_catalog_at_request_time(client, catalog):
    schemas = fetch_document(client)["components"]["schemas"]
    generation = schemas["ImageGenerationRequest"]["properties"]
    active = list(ImageModel.objects.active().values_list("model_id", flat=True))
    assert generation["model"]["enum"] == active
    assert "gpt-image-1" not in active  # retired in the seeded catalog: not offered
    assert "xhigh" in generation["quality"]["enum"]

    ImageModel.objects.filter(model_id="gpt-image-1.5").update(status=ImageModel.Status.RETIRED)
    ImageModel.objects.filter(model_id__startswith="gpt-image-2.5").update(
        status=ImageModel.Status.RETIRED
    )
    generation = fetch_document(client)["components"]["schemas"]["ImageGenerationRequest"]
    assert "gpt-image-1.5" not in generation["properties"]["model"]["enum"]
    assert "xhigh" not in generation["properties"]["quality"]["enum"]


def test_an_empty_catalog_still_gives_a_valid_document(client, db):
    ImageModel.objects.all().delete()
    document = fetch_document(client)
    validate(document)
    assert "enum" not in document["components"]["schemas"]["TaskInput"]["properties"]["quality"]


def test_the_openai_endpoints_are_described_completely(client, catalog):
    document = fetch_document(client)
    generations = document["paths"]["/v1/images/generations"]["post"]
    assert generations["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    ok = generations["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "text/event-stream"}
    for status in ("400", "401", "403", "404", "422", "429", "502", "503", "504"):
        assert status in generations["responses"], status
    assert "Retry-After" in generations["responses"]["429"]["headers"]
    edits = document["paths"]["/v1/images/edits"]["post"]["requestBody"]["content"]
    form = edits["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = document["components"]["schemas"][form]["properties"]
    assert fields["image[]"]["maxItems"] == 16 and fields["mask"]["format"] == "binary"
    assert "moderation" not in fields  # the edits endpoint takes none
    generation_fields = document["components"]["schemas"]["ImageGenerationRequest"]["properties"]
    assert "input_fidelity" not in generation_fields


def test_the_task_api_and_its_callback_are_described(client, catalog):
    document = fetch_document(client)
    if "/api/v1/jobs/createTask" not in document["paths"]:
        pytest.skip("the task API is not routed on this server")
    create = document["paths"]["/api/v1/jobs/createTask"]["post"]
    assert {"401", "402", "403", "404", "422", "429"} <= set(create["responses"])
    assert "Retry-After" in create["responses"]["402"]["headers"]
    record = document["components"]["schemas"]["TaskRecord"]
    assert record["properties"]["state"]["enum"] == [
        "waiting",
        "queuing",
        "generating",
        "success",
        "fail",
    ]
    callback = document["webhooks"]["taskFinished"]["post"]
    headers = {p["name"] for p in callback["parameters"] if p["in"] == "header"}
    assert headers == {"X-Webhook-Timestamp", "X-Webhook-Signature"}
    result = document["paths"]["/api/v1/results/{token}"]["get"]
    assert result["security"] == []


def test_the_task_record_schema_matches_record_body(client, catalog, alice, provider):
    """The schema's required fields are exactly what task_records.record_body gives."""
    from playground.api.models import ApiTask
    from playground.api.task_records import record_body
    from playground.generations.models import Generation

    job = Generation.objects.create(owner=alice, model="gpt-image-1.5", prompt="a fox")
    task = ApiTask.objects.create(generation=job, param={"model": "gpt-image-1.5"}, base_url="/")
    data = record_body(task)["data"]
    record = fetch_document(client)["components"]["schemas"]["TaskRecord"]
    assert set(record["required"]) == set(data) == set(record["properties"])


def test_the_api_page_renders_and_links_to_the_document(client, catalog, settings):
    settings.ALLOWED_HOSTS = ["images.example.test"]
    response = client.get("/api/", HTTP_HOST="images.example.test")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/api/openapi.json"' in page
    text = html.unescape(page)
    assert 'OpenAI(base_url="http://images.example.test/v1"' in text
    assert "python manage.py create_api_key" in text
    assert "curl http://images.example.test/v1/images/edits" in text
    assert "http://images.example.test/api/v1/jobs/createTask" in text
    assert "X-Webhook-Signature" in text and "hmac.compare_digest" in text
    assert 'href="/account/webhooks/"' in page
    for state in ("waiting", "queuing", "generating", "success", "fail"):
        assert f"<code>{state}</code>" in page
    assert "Retry-After" in page
    assert "<code>gpt-image-2-text-to-image</code>" in page and "/api/file-base64-upload" in page
    # Strict CSP: no inline script or style on the page.
    assert "<style" not in page and " style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None


def test_the_site_navigation_links_to_the_api_page(logged_in):
    page = logged_in.get("/").content.decode()
    assert 'href="/api/"' in page
