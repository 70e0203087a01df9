"""Remix: the image page links to the playground with the same settings and an empty prompt."""

import html
import io
import re

import pytest
from PIL import Image as PILImage

from playground.gallery.storage import store_image
from playground.generations.models import Generation, GenerationInput
from playground.inputs.images import normalize_reference
from playground.inputs.storage import store_input
from tests.jobs import make_job

pytestmark = pytest.mark.django_db

SETTINGS = {
    "model": "gpt-image-1.5",
    "prompt": "a paper boat on a puddle",
    "n": 3,
    "size": "1536x1024",
    "quality": "high",
    "output_format": "webp",
    "output_compression": 70,
    "background": "opaque",
    "moderation": "low",
    "partial_images": 2,
}


@pytest.fixture(autouse=True)
def own_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(color: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


def remix_link(client, image) -> str:
    page = client.get(f"/gallery/{image.pk}/").content.decode()
    match = re.search(r'<a class="button" href="([^"]*)"[^>]*>Remix</a>', page)
    assert match, "no Remix button"
    return html.unescape(match.group(1))


def test_it_prefills_the_playground_with_the_same_settings_and_no_prompt(logged_in, alice):
    job = make_job(alice, state="succeeded", **SETTINGS)
    image = store_image(job, 0, png("navy"))
    link = remix_link(logged_in, image)
    assert link.startswith("/?")
    assert "prompt" not in link

    response = logged_in.get(link)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.image_model.model_id == "gpt-image-1.5"
    for name in ("size", "quality", "output_format", "background", "moderation"):
        assert form[name].value() == SETTINGS[name], name
    assert str(form["n"].value()) == "3"
    assert str(form["output_compression"].value()) == "70"
    assert str(form["partial_images"].value()) == "2"
    assert not form["prompt"].value()
    page = response.content.decode()
    assert 'value="gpt-image-1.5" selected' in page
    textarea = re.search(r'<textarea name="prompt"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea and not textarea.group(1).strip()
    assert response.context["gallery_references"] == []


def test_it_keeps_the_gallery_references_of_an_edit(logged_in, alice):
    first = store_image(make_job(alice, state="succeeded"), 0, png("red"))
    second = store_image(make_job(alice, state="succeeded"), 0, png("green"))
    job = make_job(alice, state="succeeded", model="gpt-image-1.5", input_fidelity="high")
    job.operation = Generation.Operation.EDIT
    job.save()
    uploaded = png("white")
    upload = store_input(normalize_reference("upload.png", io.BytesIO(uploaded), len(uploaded)))
    for position, source in enumerate([second, None, first]):
        GenerationInput.objects.create(
            generation=job, position=position, input_file=upload, source_image=source
        )
    image = store_image(job, 0, png("blue"))

    link = remix_link(logged_in, image)
    # In the order they were sent; the uploaded one cannot travel in a link.
    assert link.endswith(f"&reference={second.pk}&reference={first.pk}")
    response = logged_in.get(link)
    assert response.context["gallery_references"] == [second, first]
    assert response.context["form"]["input_fidelity"].value() == "high"
    assert not response.context["form"]["prompt"].value()


def test_it_gives_a_plain_generation_no_references(logged_in, alice):
    image = store_image(make_job(alice, state="succeeded"), 0, png("pink"))
    assert "reference" not in remix_link(logged_in, image)
