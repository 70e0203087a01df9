"""Prompt examples: valid for the catalog, their pictures shipped, and light on the page."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image as PILImage

from playground.catalog.models import ImageModel
from playground.generations.examples import DATA_FILE, EXAMPLES, by_slug, examples_data
from playground.generations.forms import MAX_PROMPT_CHARS, GenerationForm
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from tests.jobs import FORM_FIELDS

FOLDER = Path(settings.BASE_DIR) / "static" / "examples"
CONTENT_TYPES = {"PNG": "image/png", "WEBP": "image/webp"}


def offers(field, value: str) -> bool:  # type: ignore[no-untyped-def]
    choices = getattr(field, "choices", None)
    return choices is None or value in {str(choice) for choice, _ in choices}


def shipped(name: str) -> Path:
    return FOLDER / name


@pytest.mark.django_db
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.slug)
def test_it_sets_only_values_every_active_model_takes(catalog, example):
    models = list(ImageModel.objects.active())
    assert models
    for model in models:
        form = GenerationForm(data={**FORM_FIELDS, "model": model.model_id})
        # The page sets a parameter only where the model offers that value (input_fidelity).
        params = {
            name: value
            for name, value in example.params.items()
            if name in form.fields and offers(form.fields[name], value)
        }
        form = GenerationForm(
            data={**FORM_FIELDS, "model": model.model_id, "prompt": example.prompt, **params}
        )
        assert form.is_valid(), (model.model_id, form.errors)
        assert set(example.params) - set(params) <= {"input_fidelity"}, model.model_id
    assert set(example.params) <= set(GenerationForm.base_fields) - {"model", "prompt"}


@pytest.mark.django_db
def test_it_is_valid_for_the_default_model_with_every_parameter(catalog):
    default = ImageModel.objects.active().first()
    for example in EXAMPLES:
        form = GenerationForm(
            data={**FORM_FIELDS, "model": default.model_id, "prompt": example.prompt}
            | {k: v for k, v in example.params.items() if k != "input_fidelity"}
        )
        assert form.is_valid(), (example.slug, form.errors)


def test_it_offers_what_the_models_are_known_for():
    examples = by_slug()
    assert list(examples) == [
        "otter-vet",
        "gift-basket",
        "flamingo-pool",
        "animation-style",
        "action-figure",
    ]
    assert "baby otter" in examples["otter-vet"].prompt
    assert "Relax & Unwind" in examples["gift-basket"].prompt
    assert len(examples["gift-basket"].references) >= 3
    assert "flamingo" in examples["flamingo-pool"].prompt and examples["flamingo-pool"].mask
    assert "hand-drawn animation" in examples["animation-style"].prompt
    assert examples["animation-style"].references and not examples["animation-style"].mask
    figure = examples["action-figure"].prompt
    assert '"JOHN"' in figure and '"RELIC HUNTER"' in figure and "blister pack" in figure
    for example in EXAMPLES:
        assert 300 < len(example.prompt) < MAX_PROMPT_CHARS, example.slug
        assert example.prompt == example.prompt.strip()
        assert example.mask == "" or example.references, example.slug


@pytest.mark.parametrize(
    "name", sorted({n for e in EXAMPLES for n in (*e.references, e.mask) if n})
)
def test_it_ships_each_picture_small_and_readable(name):
    path = shipped(name)
    assert path.is_file(), name
    assert path.stat().st_size < 60 * 1024
    with PILImage.open(path) as picture:
        picture.load()
        assert picture.format in CONTENT_TYPES
        assert path.suffix == {"PNG": ".png", "WEBP": ".webp"}[picture.format]
        assert min(picture.size) >= 256


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.mask], ids=lambda e: e.slug)
def test_it_ships_a_mask_of_the_first_references_size_with_an_edit_area(example):
    with (
        PILImage.open(shipped(example.mask)) as mask,
        PILImage.open(shipped(example.references[0])) as first,
    ):
        assert mask.format == "PNG"
        assert mask.size == first.size
        assert "A" in mask.getbands()
        low, high = mask.getchannel("A").getextrema()
        assert (low, high) == (0, 255)  # transparent where it changes, opaque elsewhere
        histogram = mask.getchannel("A").histogram()
        changed = histogram[0] / (mask.width * mask.height)
        assert 0.03 < changed < 0.5


def test_it_keeps_the_json_the_page_fetches_in_step_with_the_list():
    """static/examples/examples.json is written by `manage.py make_examples`: run it again."""
    shipped_data = json.loads(shipped(DATA_FILE).read_text(encoding="utf-8"))
    assert shipped_data == examples_data()


@pytest.mark.django_db
def test_it_shows_the_row_without_the_prompts_or_pictures(logged_in):
    page = logged_in.get("/").content.decode()
    for example in EXAMPLES:
        assert f'data-example="{example.slug}"' in page
        assert example.prompt[:60] not in page  # fetched on the first click
        for name in (*example.references, example.mask):
            assert not name or name not in page
    assert "js/examples/index.js" in page
    assert 'data-examples-src="/static/examples/examples.json"' in page
    assert 'data-examples-script-src="/static/js/examples/fill.js"' in page
    assert 'aria-labelledby="examples-label"' in page


@pytest.mark.django_db
def test_it_keeps_the_row_when_the_form_comes_back_with_errors(logged_in):
    response = logged_in.post(
        "/generations/", {**FORM_FIELDS, "prompt": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert response.content.decode().count("data-example=") == len(EXAMPLES)


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_mask_example_as_an_edit_with_its_mask(logged_in, upstream):
    example = by_slug()["flamingo-pool"]
    files = {
        "image[]": [
            SimpleUploadedFile(name, shipped(name).read_bytes(), content_type="image/webp")
            for name in example.references
        ],
        "mask": SimpleUploadedFile(
            example.mask, shipped(example.mask).read_bytes(), content_type="image/png"
        ),
    }
    data = {**FORM_FIELDS, "prompt": example.prompt, **example.params, "quality": "low"}
    response = logged_in.post("/generations/", {**data, **files}, headers={"HX-Request": "true"})
    assert response.status_code == 201, response.content.decode()
    job = Generation.objects.get()
    assert job.operation == "edit" and not job.notices
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits")
    assert sent["image_sizes"] == [[768, 512]] and sent["mask_size"] == [768, 512]


def test_it_draws_the_shipped_pictures_again(tmp_path):
    call_command("make_examples", out=tmp_path, stdout=io.StringIO())
    assert json.loads((tmp_path / DATA_FILE).read_text()) == examples_data()
    pictures = [path for path in FOLDER.iterdir() if path.suffix in (".png", ".webp")]
    assert len(pictures) == 7
    for path in pictures:
        with PILImage.open(path) as shipped_picture, PILImage.open(tmp_path / path.name) as drawn:
            assert drawn.size == shipped_picture.size, path.name
            if path.suffix == ".png":  # lossless: the mask is the same, pixel for pixel
                assert drawn.tobytes() == shipped_picture.tobytes()
