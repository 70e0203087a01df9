from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from playground.generations.forms import GenerationForm
from playground.generations.models import Generation, Preview
from playground.generations.tasks import enqueue_on_commit
from playground.providers.models import Provider

RECENT_JOBS = 12


def _get_generation_for_user(request: HttpRequest, pk: int) -> Generation:
    """The job, if it belongs to the signed-in user; 404 otherwise (never 403: no leaks)."""
    return get_object_or_404(Generation.objects.for_user(request.user), pk=pk)


def _recent_jobs(request: HttpRequest) -> list[Generation]:
    return list(
        Generation.objects.for_user(request.user)
        .prefetch_related("images", "previews")
        .order_by("-created_at", "-id")[:RECENT_JOBS]
    )


@login_required
@require_GET
def playground(request: HttpRequest) -> HttpResponse:
    form = GenerationForm(initial=request.GET.dict())
    return render(
        request,
        "generations/playground.html",
        {"form": form, "jobs": _recent_jobs(request)},
    )


@login_required
@require_GET
def form_controls(request: HttpRequest) -> HttpResponse:
    """The form re-drawn for another model, keeping the values that model takes."""
    form = GenerationForm(initial=request.GET.dict())
    return render(request, "generations/playground.html#generate-form", {"form": form})


@login_required
@require_POST
def create_generation(request: HttpRequest) -> HttpResponse:
    form = GenerationForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            response = render(
                request, "generations/playground.html#generate-form", {"form": form}, status=422
            )
            response["HX-Retarget"] = "#generate-form"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render(
            request,
            "generations/playground.html",
            {"form": form, "jobs": _recent_jobs(request)},
            status=422,
        )

    params = form.upstream_params()
    with transaction.atomic():
        generation = Generation.objects.create(
            owner=request.user,
            provider=Provider.objects.default(),
            model=params["model"],
            operation=Generation.Operation.GENERATE,
            prompt=params["prompt"],
            params=params,
        )
        enqueue_on_commit(generation)

    if request.htmx:
        response = render(
            request, "generations/playground.html#job-card", {"job": generation}, status=201
        )
        return trigger_client_event(response, "generation-created", {"id": generation.pk})
    return redirect("playground")


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_generation_for_user(request, pk)
    if request.htmx:
        response = render(request, "generations/playground.html#job-card", {"job": job})
        if job.is_finished:
            # 286 stops the card's polling; htmx still swaps in this final state.
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
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
@require_GET
def preview_file(request: HttpRequest, pk: int, preview_pk: int) -> FileResponse:
    job = _get_generation_for_user(request, pk)
    preview = get_object_or_404(Preview, pk=preview_pk, generation=job)
    response = FileResponse(preview.file.open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response
