"""Owner-facing views: create a link, list your links, revoke one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from playground.gallery.models import Image
from playground.sharing.forms import ShareForm
from playground.sharing.links import share_url
from playground.sharing.models import SharedImage, ShareLink
from playground.sharing.services import MAX_IMAGES, ShareRefused, create_share

PAGE_SIZE = 30
RECENT_IMAGES = 24  # offered on the Shared links page to start a new link


def _get_share_for_user(request: HttpRequest, pk: int) -> ShareLink:
    """The link, if the signed-in user owns it or is staff; 404 otherwise."""
    links = ShareLink.objects.all()
    if not request.user.is_staff:
        links = links.for_user(request.user)
    return get_object_or_404(links, pk=pk)


def _posted_image_ids(request: HttpRequest) -> list[str]:
    """The ids posted, for the form shown again: digits only, never other text."""
    return [value for value in request.POST.getlist("image") if value.isdigit()][:MAX_IMAGES]


def _row_context(request: HttpRequest, link: ShareLink) -> dict[str, object]:
    return {"link": link, "share_url": share_url(request, link)}


@login_required
@require_POST
def share_create(request: HttpRequest) -> HttpResponse:
    form = ShareForm(request.POST, owner=request.user)
    link = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            link = create_share(
                request.user, data["image"], data["expires_at"], data["show_details"]
            )
        except ShareRefused as refused:
            field = "expiry" if refused.field == "expires_at" else refused.field
            form.add_error(field if field in form.fields else None, refused.message)
    if link is None:
        if request.htmx:
            context = {"share_form": form}
            return render(request, "sharing/share_form.html#share-fields", context, status=422)
        context = {"share_form": form, "image_ids": _posted_image_ids(request)}
        return render(request, "sharing/new.html", context, status=422)
    url = share_url(request, link)
    if request.htmx:
        context = {"link": link, "share_url": url, "image_count": len(form.cleaned_data["image"])}
        response = render(request, "sharing/share_form.html#share-created", context, status=201)
        # Beside the form, which the dialog then hides (errors, by contrast, go into the form).
        response["HX-Retarget"] = "next [data-share-result]"
        response["HX-Reswap"] = "innerHTML"
        return trigger_client_event(response, "share-created")
    messages.success(request, f"Link created: {url}")
    return redirect("shares")


@login_required
@require_GET
def shares(request: HttpRequest) -> HttpResponse:
    """The user's links with their images, expiry, views and a Revoke button."""
    items = SharedImage.objects.order_by("position").only("share_id", "image_id", "position")
    links = ShareLink.objects.for_user(request.user).prefetch_related(
        Prefetch("items", queryset=items)
    )
    page = Paginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    recent = Image.objects.for_user(request.user).select_related("generation")[:RECENT_IMAGES]
    context = {
        "page": page,
        "rows": [_row_context(request, link) for link in page.object_list],
        "recent_images": recent,
    }
    template = "sharing/shares.html"
    if request.htmx:
        template += "#links"  # the list again, after the page's dialog made a link
    return render(request, template, context)


@login_required
@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = _get_share_for_user(request, pk)
    link.revoke()
    if request.htmx:
        response = render(request, "sharing/shares.html#share-row", _row_context(request, link))
        return trigger_client_event(response, "share-revoked")
    messages.success(request, "The link was revoked: its page and images no longer open.")
    return redirect("shares")
