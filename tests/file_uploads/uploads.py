"""Helpers for the File Upload API tests: pictures, requests, and Kie's answer shapes."""

import base64
import io
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image as PILImage

BASE64 = "/api/file-base64-upload"
STREAM = "/api/file-stream-upload"
URL = "/api/file-url-upload"


def png(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg(size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, "navy").save(out, "JPEG")
    return out.getvalue()


def data_url(content: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def auth(secret: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}


def post_json(client: Any, path: str, secret: str | None, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, raw, content_type="application/json", **auth(secret))


def upload_base64(client: Any, secret: str, content: bytes, **fields: Any) -> dict[str, Any]:
    """`data` of a successful base64 upload."""
    response = post_json(client, BASE64, secret, {"base64Data": data_url(content), **fields})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def assert_refused(response: Any, status: int, msg_start: str) -> str:
    """A refusal in Kie's shape: the HTTP status is its code, `msg` starts with the field."""
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["code"] == status and answer["data"] is None, answer
    assert answer["msg"].startswith(msg_start), answer["msg"]
    if response.request["PATH_INFO"].startswith("/api/file-"):
        assert answer["success"] is False  # the File Upload API's own field
    return answer["msg"]


def stored_files() -> set[Path]:
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()
