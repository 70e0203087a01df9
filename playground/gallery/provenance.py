"""C2PA provenance (Content Credentials) of a stored image, read with the c2pa library.

Image models sign what they return; the gallery keeps the original bytes, so the manifest is
still there to read. Results are cached by the image's SHA-256: the bytes never change, and
validating means hashing the whole file.
"""

import functools
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import c2pa
from django.core.cache import cache

from playground.gallery.models import CONTENT_TYPES, Image

logger = logging.getLogger(__name__)

# Validity depends on the clock (certificate expiry) and the library's trust settings, so a
# cached verdict is renewed now and then rather than kept for ever.
CACHE_SECONDS = 24 * 60 * 60
CACHE_VERSION = 1

ACTION_LABELS = {"c2pa.created": "Created", "c2pa.edited": "Edited", "c2pa.opened": "Opened"}
# IPTC digital source types most often found on generated or edited images.
SOURCE_TYPES = {
    "trainedAlgorithmicMedia": "Made by a generative AI model",
    "compositeWithTrainedAlgorithmicMedia": "Edited with a generative AI model",
    "algorithmicMedia": "Made by an algorithm (not AI-trained)",
    "compositeSynthetic": "A composite of synthetic elements",
    "digitalCapture": "Captured by a camera",
    "digitalCreation": "Made with digital tools",
    "minorHumanEdits": "A capture with minor human edits",
    "composite": "A composite",
}
VERDICTS = {
    "Trusted": (
        "Verified.",
        "The signature and the image data check out, and the signer is on the trust list.",
    ),
    "Valid": (
        "Valid signature.",
        "The signature and the image data check out; the signer's certificate is not on a "
        "trust list this server checks, so who signed it is not vouched for.",
    ),
    "Invalid": (
        "Validation failed.",
        "The image or its credentials changed after signing, or the signature does not check out.",
    ),
}


@dataclass(frozen=True)
class Action:
    name: str  # e.g. c2pa.created
    label: str
    software_agent: str = ""
    source_type: str = ""  # the IPTC digital source type URL
    source_label: str = ""
    when: str = ""


@dataclass(frozen=True)
class Failure:
    code: str
    explanation: str


@dataclass(frozen=True)
class Provenance:
    """What the active manifest says and whether it validates; `readable` False when the
    manifest is there but could not be read (then `error` says why)."""

    readable: bool
    error: str = ""
    claim_generator: str = ""
    title: str = ""
    actions: tuple[Action, ...] = ()
    ingredients: tuple[str, ...] = ()
    signer: str = ""
    issuer: str = ""
    algorithm: str = ""
    signed_at: datetime | None = None
    state: str = ""  # the library's validation state: Trusted, Valid or Invalid
    failures: tuple[Failure, ...] = ()

    @property
    def validates(self) -> bool:
        return self.readable and self.state in ("Valid", "Trusted")

    @property
    def verdict(self) -> str:
        if not self.readable:
            return "Could not be read."
        return VERDICTS.get(self.state, ("Not validated.", ""))[0]

    @property
    def verdict_detail(self) -> str:
        if not self.readable:
            return self.error
        return VERDICTS.get(self.state, ("", "The library reported no validation result."))[1]


def read_provenance(image: Image) -> Provenance | None:
    """The image's provenance, None when it carries no manifest; never raises."""
    key = f"gallery:provenance:{CACHE_VERSION}:{image.sha256}"
    cached = cache.get(key)
    if cached is not None:
        return cached[0]  # wrapped in a tuple: "no manifest" (None) is cached too
    try:
        with image.file.open("rb") as handle:
            result = read_stream(handle, CONTENT_TYPES.get(image.format))
    except Exception:  # OSError on disk; a bucket's client raises its own errors
        # A storage hiccup is not a property of the image: report it, but do not cache it.
        logger.warning("Could not open image %s to read its provenance", image.pk, exc_info=True)
        return Provenance(readable=False, error="The stored file could not be opened.")
    cache.set(key, (result,), CACHE_SECONDS)
    return result


def read_stream(stream: IO[bytes], mime_type: str | None) -> Provenance | None:
    """Read and validate the manifest store of an asset in a seekable binary stream."""
    try:
        reader = c2pa.Reader.try_create(mime_type, stream, None, _context())
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
        return _provenance(store)
    except Exception as error:  # the manifest is hostile input: any failure is "unreadable"
        logger.info("Unreadable C2PA manifest: %s", error)
        return Provenance(readable=False, error=_plain_error(error))


@functools.cache
def _context() -> c2pa.Context:
    """Reading never reaches out: an image must not make the server fetch a URL it names."""
    settings = c2pa.Settings()
    settings.set("verify.remote_manifest_fetch", "false")
    settings.set("verify.ocsp_fetch", "false")
    return c2pa.Context(settings=settings)


def _plain_error(error: Exception) -> str:
    # The library's messages look like "Verify: unexpected end of file"; keep them short.
    message = str(error).strip() or type(error).__name__
    return f"The manifest is damaged or in a form this server cannot read ({message[:200]})."


def _provenance(store: dict[str, Any]) -> Provenance:
    manifest = store["manifests"][store["active_manifest"]]
    signature = manifest.get("signature_info") or {}
    return Provenance(
        readable=True,
        claim_generator=_claim_generator(manifest),
        title=str(manifest.get("title") or ""),
        actions=tuple(_actions(manifest)),
        ingredients=tuple(
            str(item.get("title") or "untitled") for item in manifest.get("ingredients") or []
        ),
        signer=str(signature.get("common_name") or ""),
        issuer=str(signature.get("issuer") or ""),
        algorithm=str(signature.get("alg") or "").upper(),
        signed_at=_datetime(signature.get("time")),
        state=str(store.get("validation_state") or ""),
        failures=tuple(_failures(store)),
    )


def _claim_generator(manifest: dict[str, Any]) -> str:
    # Version 1 claims carry a user-agent string; version 2 claims a list of {name, version}.
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    return ", ".join(_agent(info) for info in manifest.get("claim_generator_info") or [])


def _agent(value: Any) -> str:
    if isinstance(value, dict):
        name, version = value.get("name") or "", value.get("version") or ""
        return f"{name}/{version}" if version else str(name)
    return str(value or "")


def _actions(manifest: dict[str, Any]) -> list[Action]:
    actions = []
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label") not in ("c2pa.actions", "c2pa.actions.v2"):
            continue
        for item in (assertion.get("data") or {}).get("actions") or []:
            name = str(item.get("action") or "")
            source = str(item.get("digitalSourceType") or "")
            actions.append(
                Action(
                    name=name,
                    label=ACTION_LABELS.get(name) or _humanise(name),
                    software_agent=_agent(item.get("softwareAgent")),
                    source_type=source,
                    source_label=_source_label(source),
                    when=str(item.get("when") or ""),
                )
            )
    return actions


def _humanise(action: str) -> str:
    words = action.rpartition(".")[2].replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _source_label(url: str) -> str:
    if not url:
        return ""
    term = url.rstrip("/").rpartition("/")[2]
    if term in SOURCE_TYPES:
        return SOURCE_TYPES[term]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", term).capitalize()


def _failures(store: dict[str, Any]) -> list[Failure]:
    entries = store.get("validation_status")
    if entries is None:
        results = store.get("validation_results") or {}
        entries = (results.get("activeManifest") or {}).get("failure") or []
    failures: list[Failure] = []
    for entry in entries:
        failure = Failure(str(entry.get("code") or ""), str(entry.get("explanation") or ""))
        if failure not in failures:
            failures.append(failure)
    return failures


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
