"""A small client for Kie.ai's GPT Image models, written from Kie's public documentation alone,
as a program written for Kie would be; tests/clients/test_kie_client.py points it at this server.

What it follows (docs.kie.ai):
- Market tasks: `POST /api/v1/jobs/createTask` with `{model, callBackUrl?, input}`, answered
  `{code, msg, data: {taskId}}`; `GET /api/v1/jobs/recordInfo?taskId=` answers the task with its
  `state` (waiting, queuing, generating, success, fail), `resultJson` (a JSON string holding
  `resultUrls`) and `failCode` / `failMsg`. Any `code` but 200 is an error: 401 unauthorised,
  402 insufficient credits, 404 not found, 422 validation error, 429 rate limited, 500, 501...
- The File Upload API, on a host of its own: `/api/file-base64-upload` and
  `/api/file-url-upload` (JSON), `/api/file-stream-upload` (multipart), each answering
  `{success, code, msg, data: {fileName, filePath, downloadUrl, fileSize, mimeType, uploadedAt}}`;
  `downloadUrl` is what a task's `input_urls` take.
- Webhook Security Verification: the sample verifier at the end of this file, copied as published.
"""

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any

import requests

FINISHED_STATES = ("success", "fail")


class KieError(Exception):
    """An answer whose `code` is not 200 (or that is not Kie's JSON at all)."""

    def __init__(self, http_status: int, answer: Any) -> None:
        self.http_status = http_status
        self.answer = answer
        body = answer if isinstance(answer, dict) else {}
        self.code = body.get("code")
        self.msg = body.get("msg")
        self.data = body.get("data")
        super().__init__(f"HTTP {http_status}: {answer!r}"[:500])


class KieClient:
    def __init__(
        self, api_key: str, base_url: str, upload_base_url: str, timeout: float = 30.0
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.upload_base_url = upload_base_url.rstrip("/")
        self.timeout = timeout

    # -- transport -------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        """Kie's `{code, msg, data}`; anything but code 200 raises KieError."""
        try:
            answer = response.json()
        except ValueError:
            raise KieError(response.status_code, response.text) from None
        if not isinstance(answer, dict) or answer.get("code") != 200:
            raise KieError(response.status_code, answer)
        return answer

    def _post_json(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(url, json=body, headers=self._headers(), timeout=self.timeout)
        return self._answer(response)

    # -- Market tasks ------------------------------------------------------------------------
    def create_task(
        self, model: str, input: dict[str, Any], call_back_url: str | None = None
    ) -> str:
        body: dict[str, Any] = {"model": model, "input": input}
        if call_back_url:
            body["callBackUrl"] = call_back_url
        answer = self._post_json(f"{self.base_url}/api/v1/jobs/createTask", body)
        return answer["data"]["taskId"]

    def record_info(self, task_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.base_url}/api/v1/jobs/recordInfo",
            params={"taskId": task_id},
            headers=self._headers(),
            timeout=self.timeout,
        )
        return self._answer(response)["data"]

    def wait_for_task(
        self, task_id: str, timeout: float = 60.0, interval: float = 2.0
    ) -> dict[str, Any]:
        """Polls recordInfo until the task's state is success or fail."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.record_info(task_id)
            if record["state"] in FINISHED_STATES:
                return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {record['state']} after {timeout} s")
            time.sleep(interval)

    @staticmethod
    def result_urls(record: dict[str, Any]) -> list[str]:
        return json.loads(record["resultJson"])["resultUrls"]

    # -- File Upload API ---------------------------------------------------------------------
    def upload_base64(
        self, base64_data: str, upload_path: str, file_name: str | None = None
    ) -> dict[str, Any]:
        """`base64_data`: plain base64 or a data URL (`data:image/png;base64,...`)."""
        body = {"base64Data": base64_data, "uploadPath": upload_path}
        if file_name:
            body["fileName"] = file_name
        return self._post_json(f"{self.upload_base_url}/api/file-base64-upload", body)["data"]

    def upload_stream(
        self, content: bytes, upload_path: str, file_name: str, content_type: str
    ) -> dict[str, Any]:
        response = requests.post(
            f"{self.upload_base_url}/api/file-stream-upload",
            files={"file": (file_name, content, content_type)},
            data={"uploadPath": upload_path, "fileName": file_name},
            headers=self._headers(),
            timeout=self.timeout,
        )
        return self._answer(response)["data"]

    def upload_url(
        self, file_url: str, upload_path: str, file_name: str | None = None
    ) -> dict[str, Any]:
        body = {"fileUrl": file_url, "uploadPath": upload_path}
        if file_name:
            body["fileName"] = file_name
        return self._post_json(f"{self.upload_base_url}/api/file-url-upload", body)["data"]


# -- Webhook signature check -----------------------------------------------------------------
# Kie's sample verifier, copied from "Webhook Security Verification" (Python tab) as published:
# only the Flask app and its route are left out. The functions read Flask's global `request`;
# `request` below stands in for it, set by whatever received the callback.


class CallbackRequest:
    """What the sample reads from Flask's `request`: `headers.get(name)` and `json`."""

    def __init__(self, headers: Any, body: bytes) -> None:
        self.headers = headers  # case-insensitive `get`, as Flask's headers
        self.json = json.loads(body)


class _CurrentRequest(threading.local):
    current: CallbackRequest | None = None

    @property
    def headers(self) -> Any:
        return self.current.headers

    @property
    def json(self) -> Any:
        return self.current.json


request = _CurrentRequest()

# fmt: off
# Read webhookHmacKey from environment variables or configuration
WEBHOOK_HMAC_KEY = os.getenv('WEBHOOK_HMAC_KEY', '')

def generate_signature(task_id, timestamp_seconds, secret):
    """Generate Webhook signature"""
    # 1. Concatenate the data to sign
    data_to_sign = f"{task_id}.{timestamp_seconds}"

    # 2. Calculate HMAC-SHA256 signature
    signature = hmac.new(
        secret.encode('utf-8'),
        data_to_sign.encode('utf-8'),
        hashlib.sha256
    ).digest()

    # 3. Base64 encode
    return base64.b64encode(signature).decode('utf-8')

def verify_signature(task_id, timestamp_seconds, received_signature, secret):
    """Verify Webhook signature"""
    # Regenerate signature
    expected_signature = generate_signature(task_id, timestamp_seconds, secret)

    # Use secure string comparison
    return hmac.compare_digest(expected_signature, received_signature)

def verify_webhook_signature():
    # 1. Read header fields
    timestamp = request.headers.get('X-Webhook-Timestamp')
    received_signature = request.headers.get('X-Webhook-Signature')

    if not timestamp or not received_signature:
        return False, 'Missing signature headers'

    # 2. Verify signature
    data = request.json
    task_id = data.get('data', {}).get('task_id')

    if not task_id:
        return False, 'Missing task_id'

    is_valid = verify_signature(task_id, timestamp, received_signature, WEBHOOK_HMAC_KEY)

    if not is_valid:
        return False, 'Invalid signature'

    return True, 'Verified'
# fmt: on
