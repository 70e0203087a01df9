"""The API's description: the OpenAPI document for programs, and a page for people.

Both are public: they show no key, secret or user data, only how to call this server and the
values its model catalog takes.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import get_script_prefix
from django.views.decorators.http import require_safe

from playground.api.kie_inputs import alias_values
from playground.api.openapi import catalog_values, document, route_exists
from playground.catalog.models import ImageModel
from playground.generations.code_samples import (
    SERVER_KEY_VARIABLE,
    CodeRequest,
    curl,
    snippets,
)

DOCUMENT_MAX_AGE = 300
EXAMPLE_PROMPT = "A watercolour lighthouse at dusk"


def _base_url(request: HttpRequest) -> str:
    """This server as the client reached it: scheme, host and any script prefix."""
    return request.build_absolute_uri(get_script_prefix()).rstrip("/")


@require_safe
def openapi_document(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(document(_base_url(request)), json_dumps_params={"indent": 2})
    response["Cache-Control"] = f"public, max-age={DOCUMENT_MAX_AGE}"
    return response


def _example_params(model: ImageModel | None) -> dict[str, object]:
    params: dict[str, object] = {"prompt": EXAMPLE_PROMPT}
    if model is not None:
        params = {"model": model.model_id, **params}
        params["size"] = "1024x1024" if "1024x1024" in model.sizes else model.default_size
        if "low" in model.qualities:
            params["quality"] = "low"
    return params


def _edit_example(base_url: str, params: dict[str, object]) -> str:
    edit = CodeRequest(params=params, reference_count=2, has_mask=True)
    return curl(edit, base_url + "/v1", SERVER_KEY_VARIABLE)


def _stream_example(base_url: str, params: dict[str, object]) -> str:
    streamed = CodeRequest(params={**params, "partial_images": 2})
    return curl(streamed, base_url + "/v1", SERVER_KEY_VARIABLE)


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    base_url = _base_url(request)
    models = list(ImageModel.objects.active())
    params = _example_params(models[0] if models else None)
    examples = {
        snippet.target + "_" + snippet.language: snippet.code
        for snippet in snippets(CodeRequest(params=params), base_url)
    }
    context = {
        "base_url": base_url,
        "openai_base_url": base_url + "/v1",
        "key_variable": SERVER_KEY_VARIABLE,
        "examples": examples,
        "edit_curl": _edit_example(base_url, params),
        "stream_curl": _stream_example(base_url, params),
        "models": models,
        "values": catalog_values(),
        "kie": alias_values(),
        "has_task_api": route_exists("/api/v1/jobs/createTask"),
    }
    return render(request, "api/docs.html", context)
