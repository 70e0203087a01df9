"""The OpenAPI 3.1 document of the playground's APIs, built per request as a plain dict.

Two APIs share one document: the OpenAI-compatible Images API (`/v1/images/*`, OpenAI's error
shape) and the Kie-style task API (`/api/v1/...`, `{"code", "msg", "data"}` bodies). The values a
model takes (model ids, qualities, formats ...) come from the model catalog at request time,
so an admin's catalog change shows in the document at once. An operation is listed only while
its route exists, so the document never promises an endpoint the server does not have.
"""

from typing import Any

from django.urls import Resolver404, resolve
from pydantic import BaseModel

from playground.api.kie_inputs import alias_values
from playground.catalog import spec
from playground.catalog.models import ImageModel

OPENAPI_VERSION = "3.1.0"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
TASK_ERROR_REF = {"$ref": "#/components/schemas/TaskError"}
RATE_HEADERS = {
    name: {"$ref": f"#/components/headers/{name}"}
    for name in (
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
    )
}
RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
RATE_LIMITED = {**RETRY_AFTER, **RATE_HEADERS}
BEARER = [{"bearerAuth": []}]
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
TASK_ID_EXAMPLE = "task_0123456789abcdef0123456789abcdef"
# What an edit's files may be: the formats the playground reads as references and masks.
IMAGE_FILE = {"type": "string", "format": "binary", "contentMediaType": "image/png"}


# ---------------------------------------------------------------- the catalog's values


def _union(models: list[ImageModel], attribute: str) -> list[str]:
    values: list[str] = []
    for model in models:
        for value in getattr(model, attribute) or []:
            if isinstance(value, str) and value not in values:
                values.append(value)
    return values


def catalog_values() -> dict[str, Any]:
    """The values the active models take, each list the union over the models."""
    models = list(ImageModel.objects.active())
    kie = alias_values()
    return {
        "models": [model.model_id for model in models],
        "sizes": _union(models, "sizes"),
        "free_size": any(model.free_size for model in models),
        "qualities": _union(models, "qualities"),
        "output_formats": _union(models, "output_formats"),
        "backgrounds": _union(models, "backgrounds"),
        "moderations": _union(models, "moderations"),
        "input_fidelities": _union(models, "input_fidelities"),
        "max_n": max((model.max_n for model in models), default=10),
        "task_models": [model.model_id for model in models] + kie["aliases"],
        "aspect_ratios": kie["aspect_ratios"],
        "resolutions": kie["resolutions"],
    }


def request_schema(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one operation's request, from its specification (catalog/spec.py),
    with the catalog's values filled in: a field marked `x-catalog` lists what the active
    models take (the union; a value a chosen model does not take is still refused)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        _fill_from_catalog(prop, values)
    return schema


def _fill_from_catalog(prop: dict[str, Any], values: dict[str, Any]) -> None:
    prop.pop("title", None)
    # An optional field is documented as its value's type; null is taken as "left out".
    branches = prop.get("anyOf", [])
    if len(branches) == 2 and {"type": "null"} in branches:
        prop.pop("anyOf")
        prop.update(next(branch for branch in branches if branch != {"type": "null"}))
        if prop.get("default", "") is None:
            del prop["default"]
    attribute = prop.pop("x-catalog", None)
    if attribute is None:
        return
    branches = prop.get("anyOf", [prop])
    for branch in branches:
        if attribute == "max_n" and branch.get("type") == "integer":
            branch["maximum"] = values["max_n"]
        elif attribute == "sizes" and branch.get("type") == "string":
            branch["pattern"] = r"^(auto|[0-9]{2,5}x[0-9]{2,5})$"
            branch["examples"] = values["sizes"] or ["1024x1024", "auto"]
        elif branch.get("type") == "string" and values.get(attribute):
            branch["enum"] = list(values[attribute])
    if attribute == "sizes" and values["free_size"]:
        prop["description"] += (
            " The preset sizes are listed as examples; some models take any size within their"
            " rules (edges multiples of 16, the longest at most 3840)."
        )
    if attribute not in ("models", "task_models", "max_n", "sizes"):
        prop["description"] += (
            " Which of these a model takes is in the catalog: a value it does not take is a 400."
        )


# ---------------------------------------------------------------- components


def _usage_schema() -> dict[str, Any]:
    counts = {"type": "integer", "minimum": 0}
    return {
        "type": "object",
        "description": "The tokens the request used, as OpenAI reports them.",
        "properties": {
            "input_tokens": counts,
            "output_tokens": counts,
            "total_tokens": counts,
            "input_tokens_details": {
                "type": "object",
                "properties": {"text_tokens": counts, "image_tokens": counts},
            },
        },
    }


def _error_schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "description": "OpenAI's error body.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type", "param", "code"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {
                            "type": "string",
                            "examples": [
                                "invalid_request_error",
                                "permission_error",
                                "insufficient_quota",
                                "image_generation_user_error",
                                "server_error",
                            ],
                        },
                        "param": {
                            "type": ["string", "null"],
                            "description": "The parameter at fault, if one is.",
                        },
                        "code": {"type": ["string", "null"], "examples": ["invalid_api_key"]},
                        "job_id": {
                            "type": "integer",
                            "description": "With job_still_running: the job that goes on.",
                        },
                    },
                }
            },
        },
        "TaskError": {
            "type": "object",
            "description": "The task API's error body: `code` repeats the HTTP status and "
            "`msg` names the field and the reason.",
            "required": ["code", "msg", "data"],
            "properties": {
                "code": {"type": "integer", "examples": [422]},
                "msg": {"type": "string", "examples": ["input.prompt: This field is required."]},
                "data": {"type": "null"},
            },
        },
    }


def _images_schemas() -> dict[str, Any]:
    described = {
        "background": {"type": "string"},
        "output_format": {"type": "string"},
        "quality": {"type": "string"},
        "size": {"type": "string"},
    }
    return {
        "Usage": _usage_schema(),
        "ImagesResponse": {
            "type": "object",
            "required": ["created", "data"],
            "properties": {
                "created": {"type": "integer", "description": "Unix time of the request."},
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["b64_json"],
                        "properties": {
                            "b64_json": {
                                "type": "string",
                                "contentEncoding": "base64",
                                "description": "The image file as the model made it.",
                            },
                            "revised_prompt": {"type": "string"},
                        },
                    },
                },
                **described,
                "usage": {"$ref": "#/components/schemas/Usage"},
            },
        },
        "ImageStreamEvent": {
            "description": "One Server-Sent Event's `data` (its `event:` line repeats `type`): "
            "previews, then one completed event per image, or an error.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "b64_json", "partial_image_index", "created_at"],
                    "properties": {
                        "type": {
                            "enum": [
                                "image_generation.partial_image",
                                "image_edit.partial_image",
                            ]
                        },
                        "b64_json": {"type": "string", "contentEncoding": "base64"},
                        "partial_image_index": {"type": "integer", "minimum": 0},
                        "created_at": {"type": "integer"},
                        **described,
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "b64_json", "created_at", "usage"],
                    "properties": {
                        "type": {"enum": ["image_generation.completed", "image_edit.completed"]},
                        "b64_json": {"type": "string", "contentEncoding": "base64"},
                        "created_at": {"type": "integer"},
                        "usage": {"$ref": "#/components/schemas/Usage"},
                        **described,
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "error"],
                    "properties": {
                        "type": {"const": "error"},
                        "error": {"$ref": "#/components/schemas/Error/properties/error"},
                    },
                },
            ],
        },
    }


def _generation_request(values: dict[str, Any]) -> dict[str, Any]:
    schema = request_schema(spec.GenerateRequest, values)
    schema["description"] = (
        "An unknown parameter is a 400 (code unknown_parameter); response_format is refused, "
        "as GPT image models always answer with b64_json."
    )
    schema["properties"]["prompt"]["pattern"] = "^[^\\u0000]*$"
    return schema


def _edit_request(values: dict[str, Any]) -> dict[str, Any]:
    images = {
        "type": "array",
        "items": IMAGE_FILE,
        "minItems": 1,
        "maxItems": spec.MAX_REFERENCES,
    }
    schema = request_schema(spec.EditRequest, values)
    schema["properties"]["prompt"]["pattern"] = "^[^\\u0000]*$"
    schema["properties"] = {
        "image": {**images, "description": "Reference images (repeat the part)."},
        "image[]": {**images, "description": "Reference images, as the OpenAI SDK sends them."},
        "mask": {
            **IMAGE_FILE,
            "description": "Applies to the first image, at that image's exact pixel size.",
        },
        **schema["properties"],
    }
    schema["anyOf"] = [{"required": ["image"]}, {"required": ["image[]"]}]
    schema["description"] = (
        f"1 to {spec.MAX_REFERENCES} reference images as `image` or `image[]` file parts (PNG, "
        "JPEG or WebP), and an optional `mask` (PNG with an alpha channel: transparent where "
        "the image may change). Other parameters are text parts."
    )
    return schema


def _task_schemas(values: dict[str, Any]) -> dict[str, Any]:
    usd = {"type": ["string", "null"], "examples": ["0.0110"], "description": "USD, exact."}
    millis = {"type": ["integer", "null"], "description": "Unix time in milliseconds."}
    return {
        "TaskInput": {
            **request_schema(spec.TaskInput, values),
            "description": "The Images API's parameters, reference URLs, and Kie's "
            "aspect_ratio and resolution (which pick a size the model takes; give them or "
            "size, not both).",
        },
        "CreateTaskRequest": {
            **request_schema(spec.CreateTaskRequest, values),
            "description": "An unknown field, here or in `input`, is a 422 naming it.",
        },
        "CreateTaskResponse": {
            "type": "object",
            "required": ["code", "msg", "data"],
            "properties": {
                "code": {"const": 200},
                "msg": {"const": "success"},
                "data": {
                    "type": "object",
                    "required": ["taskId"],
                    "properties": {
                        "taskId": {
                            "type": "string",
                            "pattern": "^task_[0-9a-f]{32}$",
                            "examples": [TASK_ID_EXAMPLE],
                        }
                    },
                },
            },
        },
        "TaskRecord": {
            "type": "object",
            "required": [
                "taskId",
                "model",
                "state",
                "param",
                "resultJson",
                "failCode",
                "failMsg",
                "costTime",
                "completeTime",
                "createTime",
                "updateTime",
                "costUsd",
                "estimatedUsd",
                "usage",
            ],
            "properties": {
                "taskId": {"type": "string", "examples": [TASK_ID_EXAMPLE]},
                "model": {"type": "string"},
                "state": {
                    "enum": ["waiting", "queuing", "generating", "success", "fail"],
                    "description": "waiting: queued, not started; queuing: back in the queue "
                    "for another try; generating: a worker is on it; success and fail are final.",
                },
                "param": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "description": "The createTask body as it was sent, as JSON text.",
                },
                "resultJson": {
                    "type": "string",
                    "description": 'JSON text {"resultUrls": [...]} once there are images, '
                    'else "". The URLs are signed and expire.',
                },
                "failCode": {"type": "string", "description": '"" unless the task failed.'},
                "failMsg": {"type": "string"},
                "costTime": {
                    "type": ["integer", "null"],
                    "description": "Milliseconds from creation to the end.",
                },
                "completeTime": millis,
                "createTime": millis,
                "updateTime": millis,
                "costUsd": {**usd, "description": "The actual cost; null until known."},
                "estimatedUsd": {
                    "type": "object",
                    "required": ["low", "high"],
                    "properties": {"low": usd, "high": usd},
                },
                "usage": {
                    "oneOf": [{"$ref": "#/components/schemas/Usage"}, {"type": "null"}],
                },
            },
        },
        "RecordInfoResponse": {
            "type": "object",
            "required": ["code", "msg", "data"],
            "properties": {
                "code": {"const": 200},
                "msg": {"const": "success"},
                "data": {"$ref": "#/components/schemas/TaskRecord"},
            },
        },
    }


def _me_schema() -> dict[str, Any]:
    money = {"type": ["string", "null"], "description": "USD; null for no cap."}
    return {
        "type": "object",
        "required": ["user", "key", "caps", "spend"],
        "properties": {
            "user": {"type": "string"},
            "key": {
                "type": "object",
                "required": ["name", "prefix", "created_at", "last_used_at"],
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "last_used_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "caps": {
                "type": "object",
                "required": ["usd_per_hour", "usd_per_day", "usd_total", "allowed_networks"],
                "properties": {
                    "usd_per_hour": money,
                    "usd_per_day": money,
                    "usd_total": money,
                    "allowed_networks": {"type": "array", "items": {"type": "string"}},
                },
            },
            "spend": {
                "type": "object",
                "description": "USD spent with this key, by window.",
                "additionalProperties": {"type": "string"},
            },
        },
    }


def components(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A playground API key (account page → API keys, or "
                "`python manage.py create_api_key USERNAME`).",
            }
        },
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 0},
            },
            "x-ratelimit-limit-requests": {
                "description": "Requests the tightest rate limit allows per window (when one "
                "applies).",
                "schema": {"type": "integer", "minimum": 0},
            },
            "x-ratelimit-remaining-requests": {
                "description": "Requests left in the current window.",
                "schema": {"type": "integer", "minimum": 0},
            },
            "x-ratelimit-reset-requests": {
                "description": "When the window resets, as OpenAI writes it (e.g. 20s, 1m5s).",
                "schema": {"type": "string", "examples": ["20s", "1m5s"]},
            },
        },
        "schemas": {
            **_error_schemas(),
            **_images_schemas(),
            "ImageGenerationRequest": _generation_request(values),
            "ImageEditRequest": _edit_request(values),
            **_task_schemas(values),
            **_file_schemas(),
            "Me": _me_schema(),
        },
    }


# ---------------------------------------------------------------- responses


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _key_errors(error: dict[str, Any]) -> dict[str, Any]:
    """What authenticating a key can answer (every endpoint with a key)."""
    return {
        "401": _json(
            error, "No key, a malformed Authorization header, or an unknown or revoked key."
        ),
        "403": _json(error, "The key may not be used from this address (its allow-list)."),
    }


def _images_responses(prefix: str) -> dict[str, Any]:
    """The answers of an images endpoint whose stream events are named `prefix`.*."""
    event_types = [f"{prefix}.partial_image", f"{prefix}.completed", "error"]
    events = {
        # Each event of the stream, as OpenAPI 3.2 describes Server-Sent Events.
        "schema": {
            "type": "object",
            "description": "With stream=true: Server-Sent Events, each `event: <type>` and "
            f"`data: <JSON>`: `{prefix}.partial_image` previews, then a `{prefix}.completed` "
            "event per image (with the request's usage), or an `error` event.",
            "required": ["event", "data"],
            "properties": {
                "event": {"enum": event_types},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": "#/components/schemas/ImageStreamEvent"},
                },
            },
        },
        "example": {
            "event": f"{prefix}.completed",
            "data": f'{{"type":"{prefix}.completed","b64_json":"iVBORw0...","size":"1024x1024",'
            '"quality":"low","background":"opaque","output_format":"png",'
            '"created_at":1760000000,"usage":{"total_tokens":272}}',
        },
    }
    return {
        "200": {
            "description": "The images; or, with stream=true, a stream of events.",
            "headers": RATE_HEADERS,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ImagesResponse"}},
                "text/event-stream": events,
            },
        },
        "400": {
            "description": "A parameter is missing, unknown, of the wrong type or not taken by "
            "the model (`param` names it); or the prompt was blocked by moderation.",
            "content": {"application/json": {"schema": ERROR_REF}},
        },
        **_key_errors(ERROR_REF),
        "404": _json(ERROR_REF, "The model does not exist or is retired (code model_not_found)."),
        "422": _json(ERROR_REF, "The Idempotency-Key was used with a different request."),
        "429": _json(
            ERROR_REF,
            "A spend cap of the key, the owner's monthly budget or a rate limit was reached "
            "(code rate_limit_exceeded).",
            headers=RATE_LIMITED,
        ),
        "500": _json(ERROR_REF, "The job failed for a reason of its own."),
        "502": _json(ERROR_REF, "The upstream image service failed or refused the job."),
        "503": _json(
            ERROR_REF, "The job could not be queued; nothing was charged.", headers=RETRY_AFTER
        ),
        "504": _json(
            ERROR_REF,
            "The job is still running after the server's wait (code job_still_running); it "
            "goes on and its images land in the gallery.",
        ),
    }


def _idempotency_header() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "The same key with the same body, within 24 hours, returns the first "
        "request's job instead of queueing another.",
        # Printable ASCII (as a header carries it), not starting or ending with a space.
        "schema": {"type": "string", "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    }


def _task_error(description: str, **extra: Any) -> dict[str, Any]:
    return _json(TASK_ERROR_REF, description, **extra)


def _task_key_errors() -> dict[str, Any]:
    return {
        "401": _task_error(
            "No key, a malformed Authorization header, or an unknown or revoked key."
        ),
        "402": _task_error(
            "A spend cap of the key was reached, or (createTask) the owner's monthly budget "
            "or the key's cap does not cover the task's estimate.",
            headers=RETRY_AFTER,
        ),
        "403": _task_error("The key may not be used from this address (its allow-list)."),
        "429": _task_error("Too many requests: a rate limit.", headers=RATE_LIMITED),
    }


def _file_schemas() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "FileError": {
            "type": "object",
            "description": "The File Upload API's error body: `code` repeats the HTTP status, "
            "`msg` names the field and the reason.",
            "required": ["success", "code", "msg", "data"],
            "properties": {
                "success": {"const": False},
                "code": {"type": "integer", "examples": [400]},
                "msg": {"type": "string", "examples": ["base64Data: not valid base64."]},
                "data": {"type": "null"},
            },
        },
        "FileUploadResponse": {
            "type": "object",
            "required": ["success", "code", "msg", "data"],
            "properties": {
                "success": {"const": True},
                "code": {"const": 200},
                "msg": text,
                "data": {
                    "type": "object",
                    "required": ["fileName", "filePath", "downloadUrl", "fileSize", "mimeType"],
                    "properties": {
                        "fileId": text,
                        "fileName": text,
                        "originalName": text,
                        "filePath": text,
                        "uploadPath": text,
                        "downloadUrl": {
                            **text,
                            "format": "uri",
                            "description": "Give it in a task's input_urls or mask_url; it "
                            "serves the file to its owner's keys until it expires.",
                        },
                        "fileUrl": {**text, "format": "uri"},
                        "fileSize": {"type": "integer", "minimum": 0},
                        "mimeType": {"enum": list(IMAGE_TYPES)},
                        "uploadedAt": text,
                        "uploadTime": text,
                        "expiresAt": {**text, "description": "3 days after the upload."},
                    },
                },
            },
        },
    }


def _file_error(description: str, **extra: Any) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/FileError"}, description, **extra)


def _file_upload(summary: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "tags": ["File Upload API"],
            "summary": summary,
            "security": BEARER,
            "requestBody": {"required": True, "content": content},
            "responses": {
                "200": _json(
                    {"$ref": "#/components/schemas/FileUploadResponse"},
                    "The file was stored for 3 days.",
                    headers=RATE_HEADERS,
                ),
                "400": _file_error("A field is missing or invalid; `msg` names it."),
                "401": _task_error("No key, or an unknown or revoked key."),
                "403": _task_error("The key may not be used from this address."),
                "413": _file_error("The file or the body is too large."),
                "429": _task_error("Too many requests: a rate limit.", headers=RATE_LIMITED),
                "503": _file_error("The file could not be stored just now.", headers=RETRY_AFTER),
            },
        }
    }


def _file_operations() -> dict[str, Any]:
    names = {
        "uploadPath": {
            "type": "string",
            "maxLength": 200,
            "description": "Folders, separated by single slashes (optional here).",
        },
        "fileName": {"type": "string", "maxLength": 200, "description": "With its extension."},
    }

    def json_body(required: str, field: dict[str, Any]) -> dict[str, Any]:
        return {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": [required],
                    "properties": {required: field, **names},
                }
            }
        }

    return {
        "/api/file-base64-upload": _file_upload(
            "Upload an image as base64 (bare, or a data URL).",
            json_body("base64Data", {"type": "string", "contentEncoding": "base64"}),
        ),
        "/api/file-stream-upload": _file_upload(
            "Upload an image as a multipart file.",
            {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": IMAGE_FILE, **names},
                    }
                }
            },
        ),
        "/api/file-url-upload": _file_upload(
            "Upload an image fetched from a URL on a host an admin allowed.",
            json_body("fileUrl", {"type": "string", "format": "uri", "maxLength": 2000}),
        ),
        "/api/uploads/{token}/{name}": {
            "get": {
                "tags": ["File Upload API"],
                "summary": "An uploaded file's bytes, for its owner's keys.",
                "security": BEARER,
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The file as uploaded.",
                        "content": {t: {"schema": IMAGE_FILE} for t in IMAGE_TYPES},
                    },
                    "401": _task_error("No key, or an unknown or revoked key."),
                    "403": _task_error("The key may not be used from this address."),
                    "404": _task_error("Not a file of yours, or it expired (3 days)."),
                    "429": _task_error("Too many requests: a rate limit.", headers=RATE_LIMITED),
                },
            }
        },
    }


# ---------------------------------------------------------------- paths


def _openai_operations() -> dict[str, Any]:
    return {
        "/v1/images/generations": {
            "post": {
                "operationId": "createImage",
                "tags": ["OpenAI-compatible"],
                "summary": "Create images from a prompt (OpenAI's images.generate).",
                "security": BEARER,
                "parameters": [_idempotency_header()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ImageGenerationRequest"}
                        }
                    },
                },
                "responses": _images_responses("image_generation"),
            }
        },
        "/v1/images/edits": {
            "post": {
                "operationId": "createImageEdit",
                "tags": ["OpenAI-compatible"],
                "summary": "Edit or combine reference images (OpenAI's images.edit).",
                "security": BEARER,
                "parameters": [_idempotency_header()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {"$ref": "#/components/schemas/ImageEditRequest"},
                            "encoding": {
                                "image": {"contentType": ", ".join(IMAGE_TYPES)},
                                "image[]": {"contentType": ", ".join(IMAGE_TYPES)},
                                "mask": {"contentType": "image/png"},
                            },
                        }
                    },
                },
                "responses": _images_responses("image_edit"),
            }
        },
    }


def _task_operations() -> dict[str, Any]:
    return {
        "/api/v1/jobs/createTask": {
            "post": {
                "operationId": "createTask",
                "tags": ["Task API"],
                "summary": "Queue an image task; poll recordInfo or receive a callback.",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CreateTaskRequest"}
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {"$ref": "#/components/schemas/CreateTaskResponse"},
                        "The task was queued.",
                        headers=RATE_HEADERS,
                        links={
                            "TaskRecord": {
                                "operationId": "getTaskRecord",
                                "parameters": {"taskId": "$response.body#/data/taskId"},
                                "description": "The queued task's record: poll it until "
                                "its state is success or fail.",
                            }
                        },
                    ),
                    **_task_key_errors(),
                    "404": _task_error("The model does not exist or is retired."),
                    "413": _task_error("The body is too large: send large images as URLs."),
                    "422": _task_error(
                        "A field is missing, unknown or invalid, or a URL was refused; `msg` "
                        "names the field (`input.size: ...`)."
                    ),
                    "503": _task_error(
                        "The task could not be queued; nothing was charged.", headers=RETRY_AFTER
                    ),
                },
            }
        },
        "/api/v1/jobs/recordInfo": {
            "get": {
                "operationId": "getTaskRecord",
                "tags": ["Task API"],
                "summary": "A task's state, and its result URLs once it succeeded.",
                "security": BEARER,
                "parameters": [
                    {
                        "name": "taskId",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "examples": [TASK_ID_EXAMPLE]},
                    }
                ],
                "responses": {
                    "200": _json(
                        {"$ref": "#/components/schemas/RecordInfoResponse"},
                        "The task's record.",
                        headers=RATE_HEADERS,
                    ),
                    **_task_key_errors(),
                    "404": _task_error("No task of this key's owner has this taskId."),
                    "422": _task_error("taskId is missing, or the query holds a NUL byte."),
                },
            }
        },
        "/api/v1/results/{token}": {
            "get": {
                "operationId": "getTaskResult",
                "tags": ["Task API"],
                "summary": "A result image. The URL is signed and expires; it needs no key.",
                "security": [],
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The image file.",
                        "content": {
                            kind: {"schema": {"type": "string", "contentMediaType": kind}}
                            for kind in IMAGE_TYPES
                        },
                    },
                    "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                    "404": _task_error("The token is not valid, or the image is gone."),
                    "410": _task_error("The URL has expired: ask recordInfo for a fresh one."),
                },
            }
        },
        "/api/v1/me": {
            "get": {
                "operationId": "getMe",
                "tags": ["Task API"],
                "summary": "The key's owner, its caps and what it has spent.",
                "security": BEARER,
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Me"}, "The key and its owner."),
                    **_key_errors(ERROR_REF),
                    "429": _json(
                        ERROR_REF, "The key has reached a spend cap.", headers=RETRY_AFTER
                    ),
                },
            }
        },
    }


def _webhooks() -> dict[str, Any]:
    header = {"in": "header", "required": True, "schema": {"type": "string"}}
    return {
        "taskFinished": {
            "post": {
                "summary": "A task ended: its record is POSTed to the task's callBackUrl.",
                "description": "The body is what recordInfo answers (its result URLs fresh). "
                "Verify it before trusting "
                "it: X-Webhook-Signature is base64(HMAC-SHA256(key=your webhook secret, "
                'message=taskId + "." + X-Webhook-Timestamp)). Answer with any 2xx; other '
                "answers and timeouts are retried a few times, with growing waits.",
                "parameters": [
                    {
                        **header,
                        "name": "X-Webhook-Timestamp",
                        "schema": {"type": "string", "pattern": "^[0-9]+$"},
                        "description": "When this attempt was signed, in Unix seconds; reject "
                        "old ones to stop replays.",
                    },
                    {
                        **header,
                        "name": "X-Webhook-Signature",
                        "description": "base64 of the HMAC-SHA256 described above. Missing "
                        "only if the owner had deleted their webhook secret by then.",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RecordInfoResponse"}
                        }
                    },
                },
                "responses": {"200": {"description": "Received (any 2xx will do)."}},
            }
        }
    }


def route_exists(path: str) -> bool:
    """Whether this server routes `path` (a template's `{name}` filled with a sample)."""
    sample = path.replace("{token}", "sample").replace("{name}", "sample")
    try:
        match = resolve(sample)
    except Resolver404:
        return False
    return match.url_name != "openai-invalid-url"  # the catch-all answering OpenAI's 404


def document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI document, its server `base_url` (scheme://host[/prefix])."""
    values = catalog_values()
    operations = {**_openai_operations(), **_task_operations(), **_file_operations()}
    paths = {path: item for path, item in operations.items() if route_exists(path)}
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Image Playground API",
            "version": "1",
            "description": "An OpenAI-compatible Images API (`/v1`: point an OpenAI SDK's "
            "base URL here) and a Kie-style task API (`/api/v1`: queue, then poll or receive a "
            "callback). Every request is a playground job: charged to the key's owner and kept "
            "in their gallery. Allowed values of model-specific parameters depend on the model "
            "catalog; the enums list the values of all active models together.",
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "security": BEARER,
        "tags": [
            {"name": "OpenAI-compatible", "description": "OpenAI's shapes and error body."},
            {"name": "Task API", "description": 'Kie-style {"code", "msg", "data"} bodies.'},
            {"name": "File Upload API", "description": "Kie's file uploads, for input_urls."},
        ],
        "paths": paths,
        "components": components(values),
    }
    if "/api/v1/jobs/createTask" in paths:
        doc["webhooks"] = _webhooks()
    return doc
