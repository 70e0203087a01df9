from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from playground.gallery.models import Image
from playground.gallery.storage import delete_image

PAGE_SIZE = 24


def _get_image_for_user(request: HttpRequest, pk: int) -> Image:
    """The image, if it belongs to the signed-in user; 404 otherwise."""
    return get_object_or_404(Image.objects.for_user(request.user), pk=pk)


def _serve(
    request: HttpRequest, image: Image, which: str, *, download: bool = False
) -> HttpResponse:
    """Serve stored bytes as they are, with an ETag so browsers revalidate cheaply."""
    etag = f'"{image.sha256[:32]}-{which}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    if which == "thumb":
        response = FileResponse(image.thumbnail.open("rb"), content_type="image/webp")
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
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    images = Image.objects.for_user(request.user).select_related("generation")
    page = Paginator(images, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "gallery/gallery.html"
    if request.htmx:
        template += "#grid"
    return render(request, template, {"page": page})


@login_required
@require_GET
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # A fixed few queries, however many siblings, references and edits the image has.
    images = Image.objects.for_user(request.user).select_related("generation")
    image = get_object_or_404(images, pk=pk)
    job = image.generation
    context = {
        "image": image,
        "siblings": list(job.images.exclude(pk=image.pk)),
        # Lineage: the references this image was made from, and the edits made from it.
        "inputs": list(job.inputs.select_related("source_image")),
        # A subquery, not a join: no repeats when one edit used this image twice, no DISTINCT.
        "children": list(images.filter(generation__in=image.used_as_input.values("generation"))),
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
    """The image fitted for showing large (images stored before renditions: the original)."""
    image = _get_image_for_user(request, pk)
    return _serve(request, image, "display" if image.display else "original")


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, _get_image_for_user(request, pk), "thumb")


@login_required
@require_http_methods(["GET", "POST"])
def image_delete(request: HttpRequest, pk: int) -> HttpResponse:
    image = _get_image_for_user(request, pk)
    if request.method == "GET":
        return render(request, "gallery/confirm_delete.html", {"image": image})
    delete_image(image)
    messages.success(request, "The image was deleted.")
    return redirect("gallery")
