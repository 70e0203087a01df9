"""Test-only control endpoints of the stand-in, and the request-log summary of a request.

Served only when the stand-in is started with them (`enable_control=True`, `--control` or
OFFLINE_API_CONTROL=1); otherwise every /_control/ path answers 404.

GET    /_control/faults      -> {"fail_next": [...], "latency": s, "moderation_words": [...]}
POST   /_control/faults      <- any of those keys (fail_next replaces the queue)
GET    /_control/requests    -> {"requests": [...]} (oldest first, no image bytes, no auth)
DELETE /_control/requests    -> clears the log and the last mask
GET    /_control/last-mask   -> the last mask PNG received (404 when none)
POST   /_control/reset       -> construction settings back, log cleared
"""

import io
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image, UnidentifiedImageError

from playground.core.errors import ApiError
from playground.offline_api import payloads
from playground.offline_api.wire import FormBody, parse_json

if TYPE_CHECKING:
    from playground.offline_api.server import OfflineImagesAPI


class Responder(Protocol):
    def send_json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None: ...

    def send_bytes(self, status: int, content_type: str, data: bytes, headers: dict) -> None: ...


def image_size(data: bytes) -> list[int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return [image.width, image.height]
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def form_summary(form: FormBody, received_at: float) -> dict[str, Any]:
    """What the log keeps of a request: parameters and image geometry, never bytes or keys."""
    return {
        "time": received_at,
        "params": dict(form.params),
        "images": len(form.images),
        "image_sizes": [image_size(data) for data in form.images],
        "image_bytes": [len(data) for data in form.images],
        "mask_size": image_size(form.mask) if form.mask is not None else None,
        "mask_bytes": len(form.mask) if form.mask is not None else None,
    }


class ControlRoutes:
    def __init__(self, api: "OfflineImagesAPI", responder: Responder) -> None:
        self.api = api
        self.responder = responder

    def handle(self, method: str, path: str, body: bytes) -> None:
        route = (method, path.removeprefix("/_control/"))
        if route == ("GET", "faults"):
            self.responder.send_json(200, self.api.state())
        elif route == ("POST", "faults"):
            self.configure(parse_json(body))
            self.responder.send_json(200, self.api.state())
        elif route == ("GET", "requests"):
            self.responder.send_json(200, {"requests": self.api.requests})
        elif route == ("DELETE", "requests"):
            self.api.clear_requests()
            self.responder.send_json(200, {"requests": []})
        elif route == ("GET", "last-mask"):
            self.last_mask()
        elif route == ("POST", "reset"):
            self.api.reset()
            self.responder.send_json(200, self.api.state())
        else:
            raise payloads.not_found(method, path)

    def configure(self, settings: dict[str, Any]) -> None:
        try:
            if "fail_next" in settings:
                faults = settings["fail_next"]
                self.api.set_faults(faults.split(",") if isinstance(faults, str) else list(faults))
            if "latency" in settings:
                self.api.set_latency(float(settings["latency"]))
            if "moderation_words" in settings:
                self.api.set_moderation_words(list(settings["moderation_words"]))
        except (TypeError, ValueError) as error:
            raise ApiError(400, f"Bad control settings: {error}", param=None) from error

    def last_mask(self) -> None:
        mask = self.api.last_mask
        if mask is None:
            raise ApiError(404, "No mask has been received yet.", code="no_mask")
        self.responder.send_bytes(200, "image/png", mask, {})
