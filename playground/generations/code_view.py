"""The playground's "View code": the request for the form's current settings, as code."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from playground.generations.code_samples import CodeRequest, snippets
from playground.generations.edit_inputs import MAX_REFERENCES
from playground.generations.forms import GenerationForm

TRUE_VALUES = ("1", "true", "on", "yes")
# (field, label, message): what stops the code from being shown, named as the form names it.
Problem = tuple[str, str, str]


@login_required
@require_POST
def view_code(request: HttpRequest) -> HttpResponse:
    """POST, because the prompt (up to 32,000 characters) is part of the request.

    The browser sends the form's values without its files, plus `reference_count` and
    `has_mask`: the code names its files reference-1.png ... and mask.png, so only their
    number matters here.
    """
    form = GenerationForm(request.POST)
    count, problems = _reference_count(request)
    if form.is_valid() and not problems:
        model = form.image_model
        if count and model is not None and not model.supports_edits:
            problems.append(("image", "Reference images", f"{model} does not take them."))
    problems = _form_problems(form) + problems
    template = "generations/view_code_panel.html"
    if request.htmx:
        template += "#panel"
    if problems:
        return render(request, template, {"problems": problems}, status=422)
    code_request = CodeRequest(
        params=form.upstream_params(is_edit=count > 0),
        reference_count=count,
        has_mask=request.POST.get("has_mask", "").strip().lower() in TRUE_VALUES,
    )
    context = {
        "code_request": code_request,
        "snippets": snippets(code_request, request.build_absolute_uri("/")),
    }
    return render(request, template, context)


def _reference_count(request: HttpRequest) -> tuple[int, list[Problem]]:
    """How many reference images the form holds (uploads and gallery picks alike)."""
    raw = request.POST.get("reference_count", "").strip()
    if not raw:  # no script to count the uploads: the gallery picks are all there is
        return min(len(request.POST.getlist("reference")), MAX_REFERENCES), []
    if raw.isascii() and raw.isdigit() and int(raw) <= MAX_REFERENCES:
        return int(raw), []
    message = f"Give a whole number from 0 to {MAX_REFERENCES}."
    return 0, [("reference_count", "Reference images", message)]


def _form_problems(form: GenerationForm) -> list[Problem]:
    problems = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        if field is None:
            label = "Settings"
        elif str(field.label).lower() == name:
            label = str(field.label)
        else:
            label = f"{field.label} ({name})"
        problems += [(name, label, str(error)) for error in errors]
    return problems
