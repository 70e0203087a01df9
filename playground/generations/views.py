import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    reswap,
    retarget,
    trigger_client_event,
)

from playground.core.csp import allow_local_images
from playground.core.query import parse_ids
from playground.gallery.models import Image
from playground.generations.deletion import delete_job
from playground.generations.edit_inputs import (
    MAX_REFERENCES,
    EditInputs,
    InputsRefused,
    StoredInputs,
    prepare_edit_inputs,
)
from playground.generations.forms import GenerationForm
from playground.generations.models import Generation, Preview
from playground.generations.queueing import JobRefused, NoInputs, queue_generation, rerun_form_data
from playground.inputs.models import InputFile

logger = logging.getLogger(__name__)

RECENT_JOBS = 12
QUEUE_UNAVAILABLE = (
    "The job could not be queued just now (the database did not answer). Nothing was stored "
    "or charged; try again in a moment."
)


CARD_RELATIONS = ("images", "previews", "inputs")


def _get_generation_for_user(request: HttpRequest, pk: int) -> Generation:
    """The job, if it belongs to the signed-in user; 404 otherwise (never 403: no leaks)."""
    return get_object_or_404(Generation.objects.for_user(request.user), pk=pk)


def _form_context(request: HttpRequest, form: GenerationForm) -> dict[str, Any]:
    """The form and the gallery images it references ("Edit this"), checked for ownership."""
    # Unusable ids (not ASCII digits, beyond a database integer) are ignored, like unknown ones.
    ids = parse_ids((request.POST or request.GET).getlist("reference"), MAX_REFERENCES)
    by_id = Image.objects.for_user(request.user).in_bulk(ids)
    return {"form": form, "gallery_references": [by_id[i] for i in ids if i in by_id]}


def _recent_jobs(request: HttpRequest) -> list[Generation]:
    return list(
        Generation.objects.for_user(request.user)
        .prefetch_related(*CARD_RELATIONS)
        .order_by("-created_at", "-id")[:RECENT_JOBS]
    )


@login_required
@require_GET
def playground(request: HttpRequest) -> HttpResponse:
    form = GenerationForm(initial=request.GET.dict())
    context = {**_form_context(request, form), "jobs": _recent_jobs(request)}
    return allow_local_images(render(request, "generations/playground.html", context))


@login_required
@require_GET
def mask_editor_markup(request: HttpRequest) -> HttpResponse:
    """The mask editor's <template>, fetched with its script on the first "Paint a mask"."""
    return render(request, "generations/mask_editor_template.html")


@login_required
@require_GET
def form_controls(request: HttpRequest) -> HttpResponse:
    """The form re-drawn for another model, keeping the values that model takes."""
    form = GenerationForm(initial=request.GET.dict())
    return render(request, "generations/playground.html#param-controls", {"form": form})


def _form_error_response(
    request: HttpRequest, form: GenerationForm, status: int = 422
) -> HttpResponse:
    if request.htmx:
        response = render(
            request,
            "generations/playground.html#generate-form",
            _form_context(request, form),
            status=status,
        )
        response["HX-Retarget"] = "#generate-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    context = {**_form_context(request, form), "jobs": _recent_jobs(request)}
    page = render(request, "generations/playground.html", context, status=status)
    return allow_local_images(page)


def _prepare_inputs(request: HttpRequest, form: GenerationForm) -> EditInputs | None:
    """The edit's references and mask, or None after adding their errors to the form."""
    try:
        return prepare_edit_inputs(
            request.user,
            request.FILES.getlist("image[]") + request.FILES.getlist("image"),
            request.POST.getlist("reference"),
            request.POST.get("image_order", ""),
            request.FILES.get("mask"),
        )
    except InputsRefused as refused:
        for field_name, messages in refused.errors.items():
            form.reference_errors.setdefault(field_name, []).extend(messages)
        return None


def _created_response(request: HttpRequest, generation: Generation) -> HttpResponse:
    if request.htmx:
        response = render(
            request, "generations/playground.html#job-card", {"job": generation}, status=201
        )
        return trigger_client_event(response, "generation-created", {"id": generation.pk})
    return redirect("playground")


@login_required
@require_POST
def create_generation(request: HttpRequest) -> HttpResponse:
    form = GenerationForm(request.POST)
    inputs = _prepare_inputs(request, form)
    try:
        generation = queue_generation(request.user, form, inputs or NoInputs())
    except JobRefused:
        return _form_error_response(request, form)
    except DatabaseError:
        # Nothing was stored (the job, its inputs and its task commit together): say so.
        logger.exception("queuing a generation failed")
        form.add_error(None, QUEUE_UNAVAILABLE)
        return _form_error_response(request, form, status=503)
    finally:
        if inputs is not None:
            inputs.close()
    return _created_response(request, generation)


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Polled twice a second while the job runs: fetch what the card shows in a fixed few queries.
    jobs = Generation.objects.for_user(request.user).prefetch_related(*CARD_RELATIONS)
    job = get_object_or_404(jobs, pk=pk)
    if request.htmx:
        response = render(request, "generations/playground.html#job-card", {"job": job})
        if job.is_finished:
            # 286 stops the card's polling; htmx still swaps in this final state.
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return trigger_client_event(stop, "job-settled", {"id": job.pk})
        return response
    return render(request, "generations/job.html", {"job": job})


@login_required
@require_POST
def cancel_generation(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_generation_for_user(request, pk)
    job.cancel()
    if request.htmx:
        return render(request, "generations/playground.html#job-card", {"job": job})
    return redirect("generation-detail", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def delete_generation(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a job and all it owns (a running one is cancelled first); GET asks to confirm."""
    job = _get_generation_for_user(request, pk)
    if request.method == "GET":
        return render(request, "generations/confirm_delete.html", {"job": job})
    delete_job(job)
    if request.htmx and request.htmx.target == f"job-{pk}":
        # Retargeted by id: a poll may have swapped in a newer card since the click.
        response = retarget(reswap(HttpResponse(), "outerHTML"), f"#job-{pk}")
        return trigger_client_event(response, "job-deleted", {"id": pk})
    messages.success(request, f"Job {pk} and its images were deleted.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("playground"))
    return redirect("playground")


@login_required
@require_POST
def rerun_generation(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a job again as it was (same parameters, references and mask), checked like new."""
    job = _get_generation_for_user(request, pk)
    form = GenerationForm(rerun_form_data(job))
    try:
        copy = queue_generation(request.user, form, StoredInputs.of(job))
    except JobRefused as refused:
        return _rerun_refused(request, job, f"Could not run job {job.pk} again: {refused}", 422)
    except DatabaseError:
        logger.exception("queuing a rerun of generation %s failed", job.pk)
        return _rerun_refused(request, job, QUEUE_UNAVAILABLE, 503)
    return _created_response(request, copy)


def _rerun_refused(
    request: HttpRequest, job: Generation, message: str, status: int
) -> HttpResponse:
    if request.htmx:
        context = {"message": message, "job": job}
        return render(request, "generations/playground.html#refusal", context, status=status)
    messages.error(request, message)
    return redirect("generation-detail", pk=job.pk)


@login_required
@require_GET
def preview_file(request: HttpRequest, pk: int, preview_pk: int) -> FileResponse:
    job = _get_generation_for_user(request, pk)
    preview = get_object_or_404(Preview, pk=preview_pk, generation=job)
    response = FileResponse(preview.file.open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


def _serve_input(request: HttpRequest, stored: InputFile, thumbnail: bool) -> HttpResponse:
    """Inputs are content-addressed and never change: cache them for good."""
    etag = f'"{stored.sha256[:32]}-{"thumb" if thumbnail else "file"}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    if thumbnail and stored.thumbnail:
        response = FileResponse(stored.thumbnail.open("rb"), content_type="image/webp")
    else:
        response = FileResponse(stored.file.open("rb"), content_type=stored.content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@login_required
@require_GET
def input_file(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    job = _get_generation_for_user(request, pk)
    item = get_object_or_404(job.inputs.select_related("input_file"), position=position)
    return _serve_input(request, item.input_file, thumbnail="thumb" in request.GET)


@login_required
@require_GET
def mask_file(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_generation_for_user(request, pk)
    if job.mask is None:
        raise Http404("This job has no mask.")
    return _serve_input(request, job.mask, thumbnail="thumb" in request.GET)
