from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from playground.gallery.models import Image
from playground.generations.edit_inputs import (
    MAX_REFERENCES,
    EditInputs,
    InputsRefused,
    delete_stored_files,
    prepare_edit_inputs,
    save_edit_inputs,
)
from playground.generations.forms import GenerationForm
from playground.generations.models import Generation, Preview
from playground.generations.tasks import enqueue_on_commit
from playground.inputs.models import InputFile
from playground.pricing.estimate import EstimateInput
from playground.pricing.panel import estimate_range
from playground.pricing.spend import budget_refusal
from playground.providers.models import Provider

RECENT_JOBS = 12


CARD_RELATIONS = ("images", "previews", "inputs")


def _get_generation_for_user(request: HttpRequest, pk: int) -> Generation:
    """The job, if it belongs to the signed-in user; 404 otherwise (never 403: no leaks)."""
    return get_object_or_404(Generation.objects.for_user(request.user), pk=pk)


def _form_context(request: HttpRequest, form: GenerationForm) -> dict[str, Any]:
    """The form and the gallery images it references ("Edit this"), checked for ownership."""
    ids = [i for i in (request.POST or request.GET).getlist("reference") if i.isdigit()]
    by_id = Image.objects.for_user(request.user).in_bulk(ids[:MAX_REFERENCES])
    return {"form": form, "gallery_references": [by_id[int(i)] for i in ids if int(i) in by_id]}


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
    return render(request, "generations/playground.html", context)


@login_required
@require_GET
def form_controls(request: HttpRequest) -> HttpResponse:
    """The form re-drawn for another model, keeping the values that model takes."""
    form = GenerationForm(initial=request.GET.dict())
    return render(request, "generations/playground.html#param-controls", {"form": form})


def _form_error_response(request: HttpRequest, form: GenerationForm) -> HttpResponse:
    if request.htmx:
        response = render(
            request,
            "generations/playground.html#generate-form",
            _form_context(request, form),
            status=422,
        )
        response["HX-Retarget"] = "#generate-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    context = {**_form_context(request, form), "jobs": _recent_jobs(request)}
    return render(request, "generations/playground.html", context, status=422)


def _prepare_inputs(request: HttpRequest, form: GenerationForm) -> EditInputs | None:
    """The edit's references and mask, or None after adding their errors to the form."""
    try:
        inputs = prepare_edit_inputs(
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
    model = form.image_model
    if inputs.is_edit and model is not None and not model.supports_edits:
        inputs.close()
        form.reference_errors.setdefault("image", []).append(
            f"{model.model_id} does not take reference images; choose another model."
        )
        return None
    return inputs


def _estimate_or_refuse(
    request: HttpRequest, form: GenerationForm, inputs: EditInputs
) -> tuple[Decimal, Decimal] | None:
    """The request's estimated cost (low, high), or None when the budget cannot cover it."""
    data = form.cleaned_data
    estimate = estimate_range(
        form.image_model,
        EstimateInput(
            prompt=data["prompt"],
            size=data["size"],
            quality=data["quality"],
            n=data["n"],
            partial_images=data.get("partial_images") or 0,
            references=tuple((r.image.width, r.image.height) for r in inputs.references),
            input_fidelity=data.get("input_fidelity") if inputs.is_edit else None,
        ),
    )
    if refusal := budget_refusal(request.user, estimate[1]):
        form.add_error(None, refusal)
        return None
    return estimate


@login_required
@require_POST
def create_generation(request: HttpRequest) -> HttpResponse:
    form = GenerationForm(request.POST)
    form_ok = form.is_valid()
    inputs = _prepare_inputs(request, form)
    valid = form_ok and inputs is not None
    estimate = _estimate_or_refuse(request, form, inputs) if valid else None
    if estimate is None:
        if inputs is not None:
            inputs.close()
        return _form_error_response(request, form)

    created_files: list[InputFile] = []
    try:
        with transaction.atomic():
            generation = Generation.objects.create(
                owner=request.user,
                provider=Provider.objects.default(),
                model=form.cleaned_data["model"],
                operation=(
                    Generation.Operation.EDIT if inputs.is_edit else Generation.Operation.GENERATE
                ),
                prompt=form.cleaned_data["prompt"],
                params=form.upstream_params(is_edit=inputs.is_edit),
                estimated_usd_low=estimate[0],
                estimated_usd_high=estimate[1],
            )
            if inputs.is_edit:
                created_files = save_edit_inputs(generation, inputs)
            enqueue_on_commit(generation)
    except BaseException:
        delete_stored_files(created_files)  # the rows were rolled back: leave no files
        raise
    finally:
        inputs.close()

    if request.htmx:
        response = render(
            request, "generations/playground.html#job-card", {"job": generation}, status=201
        )
        return trigger_client_event(response, "generation-created", {"id": generation.pk})
    return redirect("playground")


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
@require_POST
def rerun_generation(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a job again as it was: same parameters, the stored references and mask."""
    job = _get_generation_for_user(request, pk)
    with transaction.atomic():
        copy = job.copy_for_rerun()
        enqueue_on_commit(copy)
    if request.htmx:
        response = render(
            request, "generations/playground.html#job-card", {"job": copy}, status=201
        )
        return trigger_client_event(response, "generation-created", {"id": copy.pk})
    return redirect("playground")


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
