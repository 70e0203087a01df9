from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.catalog.models import ImageModel
from playground.core.query import parse_ids
from playground.gallery.archive import ZipResponse, zip_of
from playground.gallery.filters import GalleryFilterForm, apply_filters
from playground.gallery.models import Image
from playground.gallery.pages import keyset_page, parse_cursor
from playground.gallery.storage import thumbnail_of_original
from playground.generations.deletion import delete_images

PAGE_SIZE = 24
MAX_SELECTION = 500  # images one bulk action takes; a page holds 24


def _get_image_for_user(request: HttpRequest, pk: int) -> Image:
    """The image, if it belongs to the signed-in user; 404 otherwise."""
    return get_object_or_404(Image.objects.for_user(request.user), pk=pk)


# A rendition not made yet (its job settled a moment ago) or never made (an image stored
# before that rendition existed) is served by the next larger one; a thumbnail, by one made
# from the original there and then, so that a grid never loads an original file.
FALLBACKS = {"thumb2x": "thumb", "thumb": "pending-thumb", "display": "original"}
FIELDS = {"thumb2x": "thumbnail_2x", "thumb": "thumbnail", "display": "display"}


def _available(image: Image, which: str) -> str:
    while which in FIELDS and not getattr(image, FIELDS[which]):
        which = FALLBACKS[which]
    return which


def _serve(
    request: HttpRequest, image: Image, asked: str, *, download: bool = False
) -> HttpResponse:
    """Serve stored bytes as they are, with an ETag so browsers revalidate cheaply."""
    which = _available(image, asked)
    etag = f'"{image.sha256[:32]}-{which}"'
    # What stands in for a rendition being made is revalidated, so it is replaced once made.
    cache_control = (
        "private, max-age=31536000, immutable" if which == asked else "private, no-cache"
    )
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag, "Cache-Control": cache_control})
    response: HttpResponse
    if which == "thumb":
        response = FileResponse(image.thumbnail.open("rb"), content_type="image/webp")
    elif which == "thumb2x":
        response = FileResponse(image.thumbnail_2x.open("rb"), content_type="image/webp")
    elif which == "pending-thumb":
        response = HttpResponse(thumbnail_of_original(image), content_type="image/webp")
    elif which == "display":
        display_type = "image/jpeg" if image.display.name.endswith(".jpg") else "image/webp"
        response = FileResponse(image.display.open("rb"), content_type=display_type)
    else:
        response = FileResponse(
            image.file.open("rb"),
            content_type=image.content_type,
            as_attachment=download,
            filename=image.download_name,
        )
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _selected_images(request: HttpRequest, data: QueryDict) -> list[Image]:
    """The signed-in user's images among the `image` ids sent (unknown or others' ignored)."""
    ids = parse_ids(data.getlist("image"), MAX_SELECTION)
    return list(Image.objects.for_user(request.user).filter(pk__in=ids).order_by("-created_at"))


def _back_to_gallery(request: HttpRequest, target: str | None) -> str:
    """`target` when it is a path on this site, else the gallery."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return reverse("gallery")


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    form = GalleryFilterForm(
        request.GET or None, catalog=list(ImageModel.objects.only("model_id", "label", "qualities"))
    )
    filters = form.usable
    images = apply_filters(
        Image.objects.for_user(request.user).select_related("generation"), filters
    )
    notices = []
    after, before = request.GET.get("after"), request.GET.get("before")
    cursor_after, cursor_before = parse_cursor(after), parse_cursor(before)
    if (after and cursor_after is None) or (before and cursor_before is None):
        notices.append("That page link was not understood, so here is the first page.")
    page = keyset_page(
        images,
        form.chosen_sort,
        PAGE_SIZE,
        after=cursor_after,
        before=None if cursor_after else cursor_before,
    )
    query = urlencode(form.query_items())
    base = f"{reverse('gallery')}?{query}{'&' if query else ''}"
    context = {
        "form": form,
        "errors": form.error_list(),
        "notices": notices,
        "page": page,
        "count": images.count(),
        "filtered": any(name != "sort" for name in filters),
        "active_filters": len(set(filters) - {"q", "sort"}),
        "filters_open": bool(set(filters) - {"q", "sort"} or set(form.errors) - {"q"}),
        "first_url": base.rstrip("?&"),
        "previous_url": f"{base}before={page.previous}" if page.previous else None,
        "next_url": f"{base}after={page.following}" if page.following else None,
        "paged": bool(cursor_after or cursor_before),
        "here": request.get_full_path(),
    }
    template = "gallery/gallery.html"
    if request.htmx:
        template += "#results"
    # Bad filter values are named in the page, which still lists what the others select.
    return render(request, template, context, status=422 if form.errors else 200)


@login_required
@require_POST
def image_favourite(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark or unmark a favourite: `favourite` 1 or 0 sets it, no value flips it."""
    image = _get_image_for_user(request, pk)
    wanted = request.POST.get("favourite")
    if wanted not in (None, "0", "1"):
        return HttpResponseBadRequest(
            "favourite: send 1 to mark the image, 0 to unmark it.",
            content_type="text/plain; charset=utf-8",
        )
    image.favourite = (not image.favourite) if wanted is None else wanted == "1"
    Image.objects.filter(pk=image.pk).update(favourite=image.favourite)
    back = _back_to_gallery(request, request.POST.get("next"))
    if request.htmx:
        return render(request, "gallery/favourite_button.html", {"image": image, "next": back})
    return HttpResponseRedirect(back)


@login_required
@require_GET
def gallery_download(request: HttpRequest) -> HttpResponse:
    """The chosen images' original files in one ZIP, streamed as it is written."""
    images = _selected_images(request, request.GET)
    if not images:
        if request.GET.getlist("image"):
            raise Http404("None of these images is in your gallery.")
        messages.warning(request, "Select at least one image to download.")
        return HttpResponseRedirect(_back_to_gallery(request, request.GET.get("next")))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return ZipResponse(zip_of(images), f"images-{stamp}.zip")


@login_required
@require_http_methods(["GET", "POST"])
def gallery_delete(request: HttpRequest) -> HttpResponse:
    """Asks first (GET shows the chosen images), deletes on POST; only the owner's images."""
    data = request.POST if request.method == "POST" else request.GET
    images = _selected_images(request, data)
    back = _back_to_gallery(request, data.get("next"))
    if not images:
        messages.warning(request, "Select at least one image to delete.")
        return HttpResponseRedirect(back)
    if request.method == "GET":
        return render(request, "gallery/bulk_delete.html", {"images": images, "next": back})
    delete_images(images)
    count = len(images)
    messages.success(request, f"{count} image{'s' if count != 1 else ''} deleted.")
    return HttpResponseRedirect(back)


@login_required
@require_GET
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from playground.gallery.provenance import read_provenance
    from playground.gallery.remix import remix_url

    # A fixed few queries, however many siblings, references and edits the image has.
    images = Image.objects.for_user(request.user).select_related("generation")
    image = get_object_or_404(images, pk=pk)
    job = image.generation
    inputs = list(job.inputs.select_related("source_image"))
    context = {
        "image": image,
        "siblings": list(job.images.exclude(pk=image.pk)),
        # Lineage: the references this image was made from, and the edits made from it.
        "inputs": inputs,
        # A subquery, not a join: no repeats when one edit used this image twice, no DISTINCT.
        "children": list(images.filter(generation__in=image.used_as_input.values("generation"))),
        "remix_url": remix_url(job, inputs),
        "provenance": read_provenance(image),  # cached by the file's hash; never raises
        "share_image_ids": [image.pk],
    }
    return render(request, "gallery/image.html", context)


@login_required
@require_GET
def image_original(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, _get_image_for_user(request, pk), "original")


@login_required
@require_GET
def image_download(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, _get_image_for_user(request, pk), "original", download=True)


@login_required
@require_GET
def image_display(request: HttpRequest, pk: int) -> HttpResponse:
    """The image fitted for showing large (the original until that rendition exists)."""
    return _serve(request, _get_image_for_user(request, pk), "display")


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, _get_image_for_user(request, pk), "thumb")


@login_required
@require_GET
def image_thumbnail_2x(request: HttpRequest, pk: int) -> HttpResponse:
    """The larger thumbnail for dense screens (the ordinary one for images stored before it)."""
    return _serve(request, _get_image_for_user(request, pk), "thumb2x")


@login_required
@require_http_methods(["GET", "POST"])
def image_delete(request: HttpRequest, pk: int) -> HttpResponse:
    image = _get_image_for_user(request, pk)
    if request.method == "GET":
        return render(request, "gallery/confirm_delete.html", {"image": image})
    delete_images([image])
    messages.success(request, "The image was deleted.")
    return redirect("gallery")
