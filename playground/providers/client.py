"""The one place that talks to the Images API (through the official `openai` SDK).

It keeps one client per provider per process (shared by every job and thread), calls
generations or edits (streaming when live previews are on), retries transient failures with
backoff honouring Retry-After, and turns every failure into an UpstreamError whose message a
person understands. A cancel cuts only that call's own connection.
"""

import base64
import functools
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import httpx2
import openai
from django.conf import settings
from django.db import connections

from playground.core.outbound import GuardedTransport, PeerRule, RefusedUrl
from playground.providers.addresses import PrivateAddress, check_base_url, peer_rule
from playground.providers.errors import Outcome, UpstreamError, connection_error, error_from_status
from playground.providers.models import Provider
from playground.providers.secrets import KeyUnreadable
from playground.providers.shared_clients import (
    CancelHandle,
    ClientCache,
    cancellable,
    key_fingerprint,
    watch_connections,
)

logger = logging.getLogger(__name__)

WATCH_INTERVAL_SECONDS = 0.5
CLOSE_WAIT_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 60.0
# The most bytes one answer may bring: far above ten 4K images with their previews, and
# still a bound on a provider that never stops sending.
MAX_ANSWER_BYTES = 2 * 1024**3

# (file name, bytes or an open binary file, MIME type), as the SDK takes them; open files are
# streamed, so sixteen large references are never all in memory at once.
FileTuple = tuple[str, bytes | BinaryIO, str]


@dataclass
class UpstreamRequest:
    operation: str  # "generate" or "edit"
    params: dict[str, Any]  # Images API parameters, only those the model takes
    images: list[FileTuple] = field(default_factory=list)
    mask: FileTuple | None = None

    @property
    def streaming(self) -> bool:
        return bool(self.params.get("partial_images"))

    def rewind(self) -> None:
        """Put open files back at their start (before each attempt)."""
        for _, content, _ in [*self.images, *([self.mask] if self.mask else [])]:
            if hasattr(content, "seek"):
                content.seek(0)

    def close(self) -> None:
        for _, content, _ in [*self.images, *([self.mask] if self.mask else [])]:
            if hasattr(content, "close"):
                content.close()


@dataclass
class UpstreamResult:
    images: list[bytes]
    usage: dict[str, Any] | None
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None
    background: str | None = None
    revised_prompts: list[str | None] = field(default_factory=list)


@dataclass
class CallHooks:
    """Callbacks the caller gives: all optional, all called from the calling thread except
    on_partial, which runs on the thread reading the stream."""

    on_attempt: Callable[[int], None] | None = None
    on_partial: Callable[[int, int, bytes], None] | None = None
    # Called about twice a second while waiting; returning True cancels the call.
    should_cancel: Callable[[], bool] | None = None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle takes about 20 ms to load: once per process, not on every call, which
    would put it between a person's click and the request. Contexts are safe to share."""
    return ssl.create_default_context()


class _PerCallConnections(openai.DefaultHttpxClient):
    """Every request opens its own connection (none is kept idle for another call), and the
    calling thread's CancelHandle learns its socket, so a cancel cuts that call only.

    The rules of every outbound request apply (playground/core/outbound.py): each connection
    must reach an address `rule` allows, checked as it is made; redirects are never followed;
    the SDK's timeout is one deadline for the whole attempt. No proxy from the environment:
    the address connected to would be the proxy's, not the provider's."""

    def __init__(self, rule: PeerRule) -> None:
        super().__init__(
            transport=GuardedTransport(
                peer_rule=rule,
                max_bytes=MAX_ANSWER_BYTES,
                verify=tls_context(),
                # No cap: a cap below WORKER_CONCURRENCY would queue calls inside the pool.
                limits=httpx2.Limits(max_connections=None, max_keepalive_connections=0),
            ),
            follow_redirects=False,
            trust_env=False,
        )

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        watch_connections(request.extensions)
        kwargs["follow_redirects"] = False
        return super().send(request, **kwargs)


_shared = ClientCache[openai.OpenAI]()


def checked_key(provider: Provider) -> str:
    """The provider's key, once its URL passed the address check: on every call, since a key
    may become unreadable and a host's DNS may point somewhere internal since."""
    try:
        api_key = provider.api_key
    except KeyUnreadable:
        raise UpstreamError(
            Outcome.KEY_UNREADABLE,
            f"The key of provider '{provider.name}' cannot be decrypted (SECRET_KEY changed). "
            "An admin needs to enter the key again in the admin console.",
        ) from None
    try:
        check_base_url(provider.base_url, offline=provider.is_offline)
    except PrivateAddress as error:
        raise UpstreamError(
            Outcome.PRIVATE_ADDRESS,
            f"The provider '{provider.name}' points at an address that is not allowed: "
            f"{error} An admin needs to fix its base URL.",
        ) from None
    if not api_key:
        raise UpstreamError(
            Outcome.BAD_KEY,
            f"The provider '{provider.name}' has no API key. An admin needs to add one.",
        )
    return api_key


def _new_client(provider: Provider, api_key: str) -> openai.OpenAI:
    common: dict[str, Any] = {
        "api_key": api_key,
        "max_retries": 0,  # retries are ours, so they honour cancellation and are counted
        "timeout": float(settings.UPSTREAM_TIMEOUT_SECONDS),
        "http_client": _PerCallConnections(peer_rule(provider.is_offline, provider.base_url)),
    }
    if provider.kind == Provider.Kind.AZURE:
        return openai.AzureOpenAI(
            azure_endpoint=provider.base_url,
            api_version=settings.AZURE_OPENAI_API_VERSION,
            **common,
        )
    return openai.OpenAI(base_url=provider.base_url or None, **common)


def build_client(provider: Provider) -> openai.OpenAI:
    """A client of its own (the caller closes it), after the checks every call makes."""
    return _new_client(provider, checked_key(provider))


def shared_client(provider: Provider) -> openai.OpenAI:
    """The process's client for `provider`, after the checks every call makes; a changed key,
    URL, kind or setting builds a new one."""
    api_key = checked_key(provider)
    fingerprint = (
        provider.kind,
        provider.base_url,
        key_fingerprint(api_key),
        float(settings.UPSTREAM_TIMEOUT_SECONDS),
        settings.AZURE_OPENAI_API_VERSION,
    )
    return _shared.get(provider.pk, fingerprint, lambda: _new_client(provider, api_key))


def forget_shared_clients() -> None:
    """Drop every shared client (calls in flight keep theirs); the next call builds anew."""
    _shared.clear()


def list_models(provider: Provider) -> list[str]:
    """The cheapest real call (GET /models): the ids it answers, or an UpstreamError."""
    client = build_client(provider)
    try:
        return [model.id for model in client.models.list()]
    except Exception as exc:
        error = _as_upstream_error(exc)
        raise error from None
    finally:
        client.close()


def call_images_api(
    provider: Provider, request: UpstreamRequest, hooks: CallHooks | None = None
) -> UpstreamResult:
    """Run one request with retries; raises UpstreamError when it finally fails."""
    hooks = hooks or CallHooks()
    max_attempts = max(1, settings.UPSTREAM_MAX_ATTEMPTS)
    for attempt in range(1, max_attempts + 1):
        client = shared_client(provider)
        # Filled as a stream arrives, so images that completed before a failure are kept.
        arrived = UpstreamResult(images=[], usage=None)
        try:
            return _watched(
                lambda c=client, r=arrived: _call_once(c, request, hooks, r),
                hooks,
                arrived,
                started=lambda n=attempt: hooks.on_attempt(n) if hooks.on_attempt else None,
            )
        except UpstreamError as error:
            # Images that arrived were billed: never ask for them again.
            if not error.retryable or attempt == max_attempts or error.partial:
                if error.retryable:
                    error.message += f" (tried {attempt} times)"
                raise
            delay = _backoff_delay(attempt, error.retry_after)
            logger.info(
                "upstream %s (attempt %d/%d), retrying in %.1fs",
                error.outcome,
                attempt,
                max_attempts,
                delay,
            )
            _sleep_unless_cancelled(delay, hooks)
    raise AssertionError("unreachable")


def _backoff_delay(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    base = settings.UPSTREAM_BACKOFF_SECONDS * 2 ** (attempt - 1)
    return min(MAX_BACKOFF_SECONDS, base * (0.5 + random.random()))


def _sleep_unless_cancelled(seconds: float, hooks: CallHooks) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if hooks.should_cancel and hooks.should_cancel():
            raise UpstreamError(Outcome.CANCELLED, "Cancelled.")
        time.sleep(min(left, WATCH_INTERVAL_SECONDS))


def _watched(
    call: Callable[[], UpstreamResult],
    hooks: CallHooks,
    arrived: UpstreamResult,
    started: Callable[[], None] = lambda: None,
) -> UpstreamResult:
    """Run `call` on a helper thread so that a cancel can cut its connection while it waits.

    `started` runs once the call is on its way, so that its bookkeeping (a database write,
    which may queue behind others) never delays the request. A failure or a cancel carries
    the images that had already arrived (`partial`)."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    handle = CancelHandle()

    def run() -> None:
        try:
            with cancellable(handle):
                outcome["result"] = call()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()  # on_partial may have opened this thread's DB connection
            finished.set()

    threading.Thread(target=run, name="upstream-call", daemon=True).start()
    try:
        started()
    except Exception:
        logger.exception("bookkeeping at the start of an upstream call failed")
    while not finished.wait(WATCH_INTERVAL_SECONDS):
        if hooks.should_cancel and hooks.should_cancel():
            handle.cancel()  # this call's connection only: the client is shared
            finished.wait(CLOSE_WAIT_SECONDS)  # let the stream reader stop before reading it
            error = UpstreamError(Outcome.CANCELLED, "Cancelled.")
            error.partial = _arrived_copy(arrived)
            raise error
    if "error" in outcome:
        error = _as_upstream_error(outcome["error"])
        if isinstance(error, UpstreamError):
            error.partial = _arrived_copy(arrived)
        raise error
    return outcome["result"]


def _arrived_copy(arrived: UpstreamResult) -> "UpstreamResult | None":
    if not arrived.images:
        return None
    return replace(
        arrived, images=list(arrived.images), revised_prompts=list(arrived.revised_prompts)
    )


def _refused_in(exc: BaseException) -> RefusedUrl | None:
    seen: BaseException | None = exc
    for _ in range(5):  # the SDK may wrap it
        if seen is None:
            return None
        if isinstance(seen, RefusedUrl):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _redirect_error(status: int, location: str) -> UpstreamError:
    host = httpx2.URL(location).host if location else ""
    return UpstreamError(
        Outcome.PRIVATE_ADDRESS,
        f"The provider answered with a redirect (HTTP {status}"
        + (f" to '{host}'" if host else "")
        + "), which is never followed. An admin needs to set its base URL to the address "
        "that answers.",
        status=status,
    )


def _as_upstream_error(exc: BaseException) -> BaseException:
    if isinstance(exc, UpstreamError):
        return exc
    if (refused := _refused_in(exc)) is not None:
        return UpstreamError(
            Outcome.PRIVATE_ADDRESS,
            f"The connection to the provider was refused: {refused} An admin needs to fix "
            "its base URL.",
        )
    if isinstance(exc, openai.APIStatusError) and 300 <= exc.status_code < 400:
        return _redirect_error(exc.status_code, exc.response.headers.get("location", ""))
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {"message": str(exc.body or "")}
        return error_from_status(exc.status_code, body, dict(exc.response.headers))
    if isinstance(exc, openai.APITimeoutError):
        return connection_error(timed_out=True)
    if isinstance(exc, openai.APIConnectionError):
        return connection_error(timed_out=False)
    if isinstance(exc, openai.APIError):
        # An `error` event in a stream: its body is OpenAI's error object, with no status.
        if isinstance(exc.body, dict) and (
            exc.body.get("code") == "moderation_blocked"
            or exc.body.get("type") == "image_generation_user_error"
        ):
            return error_from_status(400, exc.body, {})
        return UpstreamError(Outcome.UPSTREAM_DOWN, f"The image service failed: {exc.message}")
    if isinstance(exc, httpx2.TimeoutException):
        return connection_error(timed_out=True)
    if isinstance(exc, httpx2.HTTPError):  # e.g. an answer past MAX_ANSWER_BYTES
        return connection_error(timed_out=False)
    return exc


def usage_dict(usage: Any) -> dict[str, Any] | None:
    """The `usage` as a plain dict without the fields the answer left out (the SDK fills
    them with None: `output_tokens_details` is optional)."""
    if usage is None:
        return None
    return usage.model_dump(exclude_none=True)


def _call_once(
    client: openai.OpenAI, request: UpstreamRequest, hooks: CallHooks, arrived: UpstreamResult
) -> UpstreamResult:
    kwargs = dict(request.params)
    request.rewind()
    if request.operation == "edit":
        kwargs["image"] = request.images
        if request.mask:
            kwargs["mask"] = request.mask
        endpoint = client.images.edit
    else:
        endpoint = client.images.generate
    if request.streaming:
        return _read_stream(endpoint(**kwargs, stream=True), hooks, arrived)
    response = endpoint(**kwargs)
    return UpstreamResult(
        images=[base64.b64decode(item.b64_json or "") for item in response.data or []],
        usage=usage_dict(response.usage),
        size=response.size,
        quality=response.quality,
        output_format=response.output_format,
        background=response.background,
        revised_prompts=[item.revised_prompt for item in response.data or []],
    )


def _read_stream(stream: Any, hooks: CallHooks, result: UpstreamResult) -> UpstreamResult:
    with stream:
        for event in stream:
            if event.type.endswith(".partial_image"):
                if hooks.on_partial:
                    image_bytes = base64.b64decode(event.b64_json)
                    hooks.on_partial(len(result.images), event.partial_image_index, image_bytes)
            elif event.type.endswith(".completed"):
                result.images.append(base64.b64decode(event.b64_json))
                result.revised_prompts.append(None)
                usage = usage_dict(event.usage)
                # Keep the largest usage seen: each completed event reports the request's.
                if usage and (
                    result.usage is None
                    or usage.get("total_tokens", 0) >= result.usage.get("total_tokens", 0)
                ):
                    result.usage = usage
                result.size = event.size
                result.quality = event.quality
                result.output_format = event.output_format
                result.background = event.background
    return result
