"""Edits: references and a mask go through the form, the worker and the SDK to the stand-in."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.models import Generation, GenerationInput
from playground.generations.runner import run_generation_job
from playground.inputs.models import InputFile
from tests.jobs import FORM_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    **FORM_FIELDS,
    "model": "gpt-image-1.5",
    "prompt": "a gift basket with all the items",
    "quality": "low",
    "input_fidelity": "high",
}


def png(size: tuple[int, int], color: str = "red", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    PILImage.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    """Opaque everywhere except a transparent box: the area to edit."""
    mask = PILImage.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def media_files(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def test_it_sends_references_in_order_with_the_mask(logged_in, upstream):
    data = {
        **FORM,
        "image[]": [
            upload("first.png", png((640, 480))),
            upload("second.png", png((300, 300), "blue")),
        ],
        "mask": upload("mask.png", mask_png((640, 480), (100, 100, 200, 200))),
    }
    response = logged_in.post("/generations/", data, headers={"HX-Request": "true"})
    assert response.status_code == 201, response.content.decode()
    job = Generation.objects.get()
    assert job.operation == "edit" and job.params["input_fidelity"] == "high"
    assert [i.original_name for i in job.inputs.all()] == ["first.png", "second.png"]
    assert (job.mask.width, job.mask.height) == (640, 480)

    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits")
    assert sent["image_sizes"] == [[640, 480], [300, 300]]
    assert sent["mask_size"] == [640, 480]
    received = PILImage.open(io.BytesIO(upstream.last_mask))
    assert received.size == (640, 480) and received.mode == "RGBA"
    alpha = received.getchannel("A")
    assert alpha.getpixel((150, 150)) == 0 and alpha.getpixel((10, 10)) == 255
    assert job.usage["input_tokens_details"]["image_tokens"] > 0


def test_it_edits_a_gallery_image_and_records_lineage(logged_in, alice, upstream):
    logged_in.post("/generations/", {**FORM, "model": "gpt-image-2", "prompt": "a lounge"})
    parent_job = Generation.objects.get()
    run_generation_job(parent_job.pk)
    parent = parent_job.images.get()

    response = logged_in.post(
        "/generations/",
        {**FORM, "model": "gpt-image-2", "prompt": "add a flamingo", "reference": [parent.pk]},
    )
    assert response.status_code == 302
    child_job = Generation.objects.exclude(pk=parent_job.pk).get()
    assert "input_fidelity" not in child_job.params  # gpt-image-2 takes none
    run_generation_job(child_job.pk)
    child = child_job.images.get()
    child_job.refresh_from_db()
    # gpt-image-2 always works at high input fidelity: 194 tile tokens + 4160 for a square.
    assert child_job.usage["input_tokens_details"]["image_tokens"] == 194 + 4160
    assert child_job.actual_usd == child_job.estimated_usd_high
    assert child_job.inputs.get().source_image == parent

    child_page = logged_in.get(f"/gallery/{child.pk}/").content.decode()
    assert f'href="/gallery/{parent.pk}/"' in child_page and "Made from" in child_page
    parent_page = logged_in.get(f"/gallery/{parent.pk}/").content.decode()
    assert f'href="/gallery/{child.pk}/"' in parent_page and "Edited into" in parent_page
    assert upstream.requests[-1]["images"] == 1


def test_it_stores_the_same_image_once(logged_in):
    same = png((256, 256), "green")
    data = {**FORM, "image[]": [upload("a.png", same), upload("b.png", same)]}
    assert logged_in.post("/generations/", data).status_code == 302
    assert (
        logged_in.post("/generations/", {**FORM, "image[]": [upload("c.png", same)]}).status_code
        == 302
    )
    assert InputFile.objects.count() == 1
    assert GenerationInput.objects.count() == 3


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {"image[]": [upload(f"{i}.png", png((64, 64))) for i in range(17)]},
            "image",
            "At most 16 reference images (17 given)",
        ),
        ({"image[]": [upload("notes.png", b"not really a picture")]}, "image", "notes.png"),
        (
            {"mask": upload("mask.png", mask_png((64, 64), (0, 0, 8, 8)))},
            "mask",
            "needs a reference",
        ),
        (
            {
                "image[]": [upload("ok.png", png((64, 64)))],
                "mask": upload("mask.png", b"\x89PNG broken"),
            },
            "mask",
            "mask.png",
        ),
        (
            {
                "image[]": [upload("ok.png", png((64, 64)))],
                "mask": upload("mask.png", mask_png((32, 48), (0, 0, 8, 8))),
            },
            "mask",
            "Invalid mask image: mask size 32x48 does not match image size 64x64.",
        ),
        ({"reference": ["999999"]}, "image", "not found in your gallery"),
    ],
)
def test_it_refuses_bad_inputs_and_leaves_nothing_behind(
    logged_in, upstream, settings, data, field, words
):
    before = media_files(settings)
    response = logged_in.post("/generations/", {**FORM, **data}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.content.decode()
    assert f'data-error-for="{field}"' in page and words in page
    assert not Generation.objects.exists() and not InputFile.objects.exists()
    assert media_files(settings) == before
    assert upstream.requests == []


def test_it_refuses_another_users_gallery_image(client, alice, bob, provider):
    client.force_login(alice)
    client.post("/generations/", {**FORM, "model": "gpt-image-2"})
    run_generation_job(Generation.objects.get().pk)
    image = Image.objects.get()
    client.force_login(bob)
    response = client.post(
        "/generations/", {**FORM, "reference": [image.pk]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert Generation.objects.filter(owner=bob).count() == 0


def test_it_serves_inputs_and_mask_only_to_the_owner(client, alice, bob, provider):
    client.force_login(alice)
    data = {
        **FORM,
        "image[]": [upload("first.png", png((64, 64)))],
        "mask": upload("mask.png", mask_png((64, 64), (0, 0, 8, 8))),
    }
    client.post("/generations/", data)
    job = Generation.objects.get()
    urls = [
        f"/generations/{job.pk}/inputs/0/",
        f"/generations/{job.pk}/inputs/0/?thumb",
        f"/generations/{job.pk}/mask/",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.force_login(bob)
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_it_resends_the_same_files_after_a_transient_failure(logged_in, upstream):
    data = {**FORM, "image[]": [upload("a.png", png((320, 200)))]}
    logged_in.post("/generations/", data)
    job = Generation.objects.get()
    upstream.set_faults(["503"])
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2
    assert [r["image_sizes"] for r in upstream.requests] == [[[320, 200]], [[320, 200]]]


def test_it_runs_an_edit_again_with_the_stored_inputs(client, alice, bob, provider, upstream):
    client.force_login(alice)
    data = {
        **FORM,
        "image[]": [upload("a.png", png((320, 200))), upload("b.png", png((64, 64), "blue"))],
        "mask": upload("mask.png", mask_png((320, 200), (0, 0, 50, 50))),
    }
    client.post("/generations/", data)
    original = Generation.objects.get()
    run_generation_job(original.pk)

    client.force_login(bob)
    assert client.post(f"/generations/{original.pk}/rerun/").status_code == 404
    client.force_login(alice)
    response = client.post(f"/generations/{original.pk}/rerun/", headers={"HX-Request": "true"})
    assert response.status_code == 201
    again = Generation.objects.exclude(pk=original.pk).get()
    assert (again.state, again.params, again.mask_id) == (
        "queued",
        original.params,
        original.mask_id,
    )
    assert [i.input_file_id for i in again.inputs.all()] == [
        i.input_file_id for i in original.inputs.all()
    ]
    run_generation_job(again.pk)
    again.refresh_from_db()
    assert again.state == "succeeded"
    assert upstream.requests[-1]["image_sizes"] == [[320, 200], [64, 64]]
    assert InputFile.objects.count() == 3  # two references and the mask, stored once
