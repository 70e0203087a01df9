"""A size-fitted rendition is ready when an image is stored, served with the same access rules:
JPEG for an opaque image (quick to make while the person waits), WebP for a transparent one."""

import io

import pytest
from PIL import Image as PILImage

from playground.gallery.storage import store_image
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    colour = (255, 165, 0, 128) if mode == "RGBA" else "orange"  # half transparent
    PILImage.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def stored(owner, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    job = Generation.objects.create(
        owner=owner, model="gpt-image-2", prompt="p", params={"n": 1}, state="succeeded"
    )
    return store_image(job, 0, png(size))


def read(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("mode", "content_type", "image_format"),
    [("RGB", "image/jpeg", "JPEG"), ("RGBA", "image/webp", "WEBP")],
)
def test_it_serves_a_fitted_rendition_and_keeps_the_original_untouched(
    client, alice, mode, content_type, image_format
):
    data = png((1536, 1024), mode)
    job = Generation.objects.create(owner=alice, model="m", prompt="p", params={"n": 1})
    image = store_image(job, 0, data)
    client.force_login(alice)

    response = client.get(f"/gallery/{image.pk}/display/")
    assert response.status_code == 200 and response["Content-Type"] == content_type
    with PILImage.open(io.BytesIO(read(response))) as display:
        assert display.format == image_format and display.size == (1024, 683)
        assert ("A" in display.getbands()) == (mode == "RGBA")  # transparency is kept
    assert read(client.get(f"/gallery/{image.pk}/original/")) == data


def test_it_keeps_a_small_image_at_its_own_size(client, alice):
    image = stored(alice, (640, 480))
    client.force_login(alice)
    with PILImage.open(io.BytesIO(read(client.get(f"/gallery/{image.pk}/display/")))) as shown:
        assert shown.size == (640, 480)


def test_it_falls_back_to_the_original_for_an_image_stored_before_renditions(client, alice):
    image = stored(alice, (64, 64))
    image.display.delete(save=True)
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/display/")
    assert response["Content-Type"] == "image/png"


def test_it_hides_the_rendition_from_other_users(client, alice, bob):
    image = stored(alice, (64, 64))
    client.force_login(bob)
    assert client.get(f"/gallery/{image.pk}/display/").status_code == 404
    client.logout()
    assert client.get(f"/gallery/{image.pk}/display/").status_code == 302
