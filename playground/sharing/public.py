"""The public side of share links: the page and its image files, for visitors without an account.

Everything here is addressed by the token and an image's position in the link, never by an
id; the link is checked on every request, and nothing is cached without revalidation, so a
revoked or expired link stops serving at once.
"""

import hashlib
from dataclasses import dataclass
from itertools import groupby

from django.db.models import F
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from playground.gallery.models import Image
from playground.gallery.storage import thumbnail_of_original
from playground.generations.models import Generation
from playground.sharing.links import absolute, display_size
from playground.sharing.models import SharedImage, ShareLink
from playground.sharing.services import MAX_IMAGES

SITE_NAME = "Image Playground"
HIDDEN_PARAMS = {"prompt", "model"}  # shown on their own lines
PARAM_LABELS = {
    "n": "Images",
    "size": "Size",
    "quality": "Quality",
    "output_format": "Format",
    "output_compression": "Compression",
    "background": "Background",
    "moderation": "Moderation",
    "input_fidelity": "Input fidelity",
    "partial_images": "Previews",
}


def _private(response: HttpResponseBase, cache_control: str = "no-store") -> HttpResponseBase:
    """Headers of every share response: not indexed, no Referer to wherever it links."""
    response["Cache-Control"] = cache_control
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _gone_page(status: int, state: str) -> HttpResponseBase:
    body = render_to_string("sharing/gone.html", {"state": state, "site_name": SITE_NAME})
    return _private(HttpResponse(body, status=status))


@dataclass(frozen=True)
class ShownImage:
    position: int
    image: Image
    width: int  # of the display rendition
    height: int
    display_type: str
    display_url: str
    original_url: str
    download_url: str


def _display_type(image: Image) -> str:
    if not image.display:
        return image.content_type
    return "image/jpeg" if image.display.name.endswith(".jpg") else "image/webp"


def _shown(token: str, item: SharedImage) -> ShownImage:
    image = item.image
    width, height = (
        display_size(image.width, image.height) if image.display else (image.width, image.height)
    )
    args = [token, item.position]
    return ShownImage(
        position=item.position,
        image=image,
        width=width,
        height=height,
        display_type=_display_type(image),
        display_url=reverse("share-display", args=args),
        original_url=reverse("share-original", args=args),
        download_url=reverse("share-download", args=args),
    )


def _details(generation: Generation) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("Model", generation.model),
        ("Operation", generation.get_operation_display()),
    ]
    params = generation.params if isinstance(generation.params, dict) else {}
    rows += [
        (PARAM_LABELS.get(key, key), value)
        for key, value in params.items()
        if key not in HIDDEN_PARAMS
    ]
    return rows


@require_safe
def share_page(request: HttpRequest, token: str) -> HttpResponseBase:
    link = ShareLink.objects.filter(token=token).first()
    if link is None:
        return _gone_page(404, "missing")
    state = link.state()
    items = (
        list(link.items.select_related("image__generation"))
        if state == ShareLink.State.ACTIVE
        else []
    )
    if not items:  # revoked, expired, or every image of it deleted since
        return _gone_page(410, state)
    if request.method == "GET":
        ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)
    shown = [_shown(token, item) for item in items]
    # Images of one job in a row share one prompt: show it once per run of them.
    groups = [
        {
            "generation": generation,
            "images": list(run),
            "details": _details(generation) if link.show_details else [],
        }
        for generation, run in groupby(shown, key=lambda s: s.image.generation)
    ]
    first = shown[0]
    prompt = first.image.generation.prompt if link.show_details else ""
    count = len(shown)
    title = "A shared image" if count == 1 else f"{count} shared images"
    context = {
        "link": link,
        "groups": groups,
        "count": count,
        "title": title,
        "description": prompt or f"{title.capitalize()} from {SITE_NAME}.",
        "page_url": absolute(request, reverse("share-page", args=[token])),
        "og_image": first,
        "og_image_url": absolute(request, first.display_url),
        "site_name": SITE_NAME,
    }
    body = render_to_string("sharing/share_page.html", context)
    return _private(HttpResponse(body))


def _shared_file(
    request: HttpRequest, token: str, position: int, which: str, *, download: bool = False
) -> HttpResponseBase:
    if not 0 < position <= MAX_IMAGES:
        return _private(HttpResponse("Not found.", status=404, content_type="text/plain"))
    item = (
        SharedImage.objects.select_related("share", "image")
        .filter(share__token=token, position=position)
        .first()
    )
    if item is None:
        return _private(HttpResponse("Not found.", status=404, content_type="text/plain"))
    if not item.share.is_active:
        gone = "This link was revoked or has expired."
        return _private(HttpResponse(gone, status=410, content_type="text/plain"))
    image = item.image
    if which == "thumbnail" and not image.thumbnail:
        which = "pending-thumbnail"  # its renditions are being made: one from the original
    if which == "display" and not image.display:
        which = "original"  # stored before display renditions existed, or being made
    # Per link, so the same picture shared twice (or in the gallery) cannot be correlated.
    seed = f"{token}:{image.sha256}:{which}".encode()
    etag = f'"{hashlib.sha256(seed).hexdigest()[:32]}"'
    # Revalidated on every use: the link is checked above before a 304 can answer.
    cache_control = "private, no-cache"
    if (not_modified := get_conditional_response(request, etag=etag)) is not None:
        not_modified["ETag"] = etag
        return _private(not_modified, cache_control)
    extension = "jpg" if image.format == "jpeg" else image.format
    name = f"shared-image-{position}"
    response: HttpResponseBase
    if which == "thumbnail":
        response = FileResponse(
            image.thumbnail.open("rb"), content_type="image/webp", filename=f"{name}-small.webp"
        )
    elif which == "pending-thumbnail":
        response = HttpResponse(thumbnail_of_original(image), content_type="image/webp")
        response["Content-Disposition"] = f'inline; filename="{name}-small.webp"'
    elif which == "display":
        display_type = _display_type(image)
        response = FileResponse(
            image.display.open("rb"),
            content_type=display_type,
            filename=f"{name}.{'jpg' if display_type == 'image/jpeg' else 'webp'}",
        )
    else:
        response = FileResponse(
            image.file.open("rb"),
            content_type=image.content_type,
            as_attachment=download,
            filename=f"{name}.{extension}",
        )
    response["ETag"] = etag
    return _private(response, cache_control)


@require_safe
def shared_display(request: HttpRequest, token: str, position: int) -> HttpResponseBase:
    return _shared_file(request, token, position, "display")


@require_safe
def shared_original(request: HttpRequest, token: str, position: int) -> HttpResponseBase:
    return _shared_file(request, token, position, "original")


@require_safe
def shared_download(request: HttpRequest, token: str, position: int) -> HttpResponseBase:
    return _shared_file(request, token, position, "original", download=True)


@require_safe
def shared_thumbnail(request: HttpRequest, token: str, position: int) -> HttpResponseBase:
    return _shared_file(request, token, position, "thumbnail")
