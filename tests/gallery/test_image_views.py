"""The gallery: newest first, thumbnails only, paginated; image page, download, delete."""

import hashlib
import io

import pytest
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db


def picture(color: str = "red", fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def make_images(owner, count: int, fmt: str = "PNG") -> list[Image]:
    images = []
    for number in range(count):
        job = Generation.objects.create(
            owner=owner,
            model="gpt-image-2",
            prompt=f"picture number {number}",
            params={"n": 1, "output_format": fmt.lower()},
            state="succeeded",
        )
        images.append(store_image(job, 0, picture(fmt=fmt)))
    return images


def test_it_downloads_the_original_bytes_with_name_and_type(client, alice):
    data = picture("blue", "JPEG")
    job = Generation.objects.create(owner=alice, model="m", prompt="p", params={"n": 1})
    image = store_image(job, 0, data)
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/download/")
    body = b"".join(response.streaming_content)
    assert body == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == f'attachment; filename="image-{job.pk}-1.jpg"'
    assert hashlib.sha256(body).hexdigest() == image.sha256


def test_it_answers_not_modified_for_a_known_etag(client, alice):
    (image,) = make_images(alice, 1)
    client.force_login(alice)
    first = client.get(f"/gallery/{image.pk}/original/")
    again = client.get(f"/gallery/{image.pk}/original/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_it_shows_newest_first_with_thumbnails_only(client, alice):
    images = make_images(alice, 3)
    client.force_login(alice)
    page = client.get("/gallery/").content.decode()
    positions = [page.index(f"/gallery/{image.pk}/thumbnail/") for image in images]
    assert positions == sorted(positions, reverse=True)
    assert "/original/" not in page


def test_it_shows_prompt_parameters_usage_and_timings(client, alice):
    (image,) = make_images(alice, 1)
    job = image.generation
    job.usage = {"input_tokens": 12, "output_tokens": 196, "total_tokens": 208}
    job.save()
    client.force_login(alice)
    page = client.get(f"/gallery/{image.pk}/").content.decode()
    for text in ("picture number 0", "gpt-image-2", "196", "Waited in queue", "Download PNG"):
        assert text in page


def test_it_deletes_after_confirmation_and_removes_the_files(
    client, alice, django_capture_on_commit_callbacks
):
    (image,) = make_images(alice, 1)
    storage = image.file.storage
    names = [image.file.name, image.thumbnail.name]
    client.force_login(alice)
    confirm = client.get(f"/gallery/{image.pk}/delete/")
    assert "Delete this image?" in confirm.content.decode()
    assert Image.objects.filter(pk=image.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        response = client.post(f"/gallery/{image.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/gallery/"
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not any(storage.exists(name) for name in names)
