"""The image page reads what it shows in a fixed number of queries, however large its lineage."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations.models import Generation, GenerationInput
from playground.inputs.images import normalize_reference
from playground.inputs.models import InputFile
from playground.inputs.storage import store_input
from tests.jobs import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_media(settings, tmp_path):
    """Stored images and references go to this test's folder, so none outlive it."""
    settings.MEDIA_ROOT = tmp_path / "media"


def png(color: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 24), color).save(out, "PNG")
    return out.getvalue()


def reference_file() -> InputFile:
    data = png("white")
    return store_input(normalize_reference("ref.png", io.BytesIO(data), len(data)))


def image_with_lineage(owner, count: int) -> Image:
    """An image with `count` siblings, `count` references and `count` edits made from it."""
    job = make_job(owner, state=Generation.State.SUCCEEDED, n=count + 1)
    job.operation = Generation.Operation.EDIT
    job.save()
    image = store_image(job, 0, png("red"))
    for index in range(1, count + 1):
        store_image(job, index, png("blue"))
    for position in range(count):
        source = store_image(make_job(owner, state="succeeded"), 0, png("green"))
        GenerationInput.objects.create(
            generation=job, position=position, input_file=reference_file(), source_image=source
        )
    for number in range(count):
        edit = make_job(owner, state="succeeded", prompt=f"edit number {number}")
        GenerationInput.objects.create(
            generation=edit, position=0, input_file=reference_file(), source_image=image
        )
        store_image(edit, 0, png("yellow"))
    return image


def queries_for_page(client, image: Image) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/gallery/{image.pk}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_it_shows_the_image_page_in_a_fixed_number_of_queries(logged_in, alice):
    few, _ = queries_for_page(logged_in, image_with_lineage(alice, 1))
    many, page = queries_for_page(logged_in, image_with_lineage(alice, 5))
    assert many == few
    assert page.count('alt="Edit ') == 5  # edited into
    assert page.count('class="thumb"') == 5  # same job
    assert page.count('alt="Reference ') == 5  # made from
    assert "edit number 4" in page  # the edits' prompts, read through their jobs


def test_it_shows_an_edit_that_used_the_image_twice_once(logged_in, alice):
    image = image_with_lineage(alice, 0)
    edit = make_job(alice, state="succeeded")
    for position in range(2):
        GenerationInput.objects.create(
            generation=edit, position=position, input_file=reference_file(), source_image=image
        )
    store_image(edit, 0, png("yellow"))
    _, page = queries_for_page(logged_in, image)
    assert page.count('alt="Edit ') == 1
