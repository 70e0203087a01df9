"""Generation rows for tests, with the parameters the form would have sent."""

from typing import Any

from playground.generations.models import Generation

JOB_PARAMS: dict[str, Any] = {
    "model": "gpt-image-2",
    "prompt": "a lighthouse at dusk",
    "n": 1,
    "size": "1024x1024",
    "quality": "low",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
}
# What the playground's form posts for a plain generation (strings, as a browser sends them).
FORM_FIELDS: dict[str, str] = {
    "model": "gpt-image-2",
    "prompt": "a red kite",
    "size": "1024x1024",
    "quality": "high",
    "n": "1",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
}

ROW_FIELDS = {"state", "runs", "crashes", "worker", "heartbeat_at", "started_at"}


def make_job(owner: Any, provider: Any = None, **changes: Any) -> Generation:
    """A queued job; keyword arguments change its parameters (or its row, for `state` etc.)."""
    row_fields = {key: changes.pop(key) for key in list(changes) if key in ROW_FIELDS}
    params = {**JOB_PARAMS, **changes}
    return Generation.objects.create(
        owner=owner,
        provider=provider,
        model=params["model"],
        prompt=params["prompt"],
        params=params,
        **row_fields,
    )
