"""Grid thumbnails: 320 px for ordinary screens, 512 px for dense ones, older images still shown."""

import io

import pytest
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import THUMBNAIL_2X_EDGE, THUMBNAIL_EDGE, make_renditions
from tests.gallery.gallery_images import make_image, png

pytestmark = pytest.mark.django_db


def decoded(data: bytes) -> PILImage.Image:
    picture = PILImage.open(io.BytesIO(data))
    picture.load()
    return picture


def test_it_makes_a_grid_thumbnail_and_a_larger_one():
    made = make_renditions(png("teal", (1536, 1024)))
    small, large = decoded(made.thumbnail), decoded(made.thumbnail_2x)
    assert (small.format, large.format) == ("WEBP", "WEBP")
    # Each reduced from the one above it: a rounding may differ by a pixel from the original's.
    assert small.width == THUMBNAIL_EDGE and abs(small.height - 213) <= 1
    assert large.width == THUMBNAIL_2X_EDGE and abs(large.height - 341) <= 1


def test_it_makes_no_larger_thumbnail_of_a_small_image():
    made = make_renditions(png("teal", (200, 100)))
    assert decoded(made.thumbnail).size == (200, 100)
    assert made.thumbnail_2x == b""


def test_it_serves_both_sizes_to_the_owner_only(client, alice, bob):
    image = make_image(alice, data=png("teal", (1024, 1024)))
    client.force_login(alice)
    small = client.get(f"/gallery/{image.pk}/thumbnail/")
    large = client.get(f"/gallery/{image.pk}/thumbnail/2x/")
    assert large["Content-Type"] == "image/webp"
    assert decoded(b"".join(small.streaming_content)).size == (320, 320)
    assert decoded(b"".join(large.streaming_content)).size == (512, 512)
    assert large["ETag"] != small["ETag"]
    again = client.get(
        f"/gallery/{image.pk}/thumbnail/2x/", headers={"If-None-Match": large["ETag"]}
    )
    assert again.status_code == 304
    client.force_login(bob)
    assert client.get(f"/gallery/{image.pk}/thumbnail/2x/").status_code == 404


def test_it_falls_back_to_the_thumbnail_for_images_stored_before(client, alice):
    image = make_image(alice, data=png("teal", (1024, 1024)))
    Image.objects.filter(pk=image.pk).update(thumbnail_2x="")
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/thumbnail/2x/")
    assert decoded(b"".join(response.streaming_content)).size == (320, 320)
    page = client.get("/gallery/").content.decode()
    assert f'src="/gallery/{image.pk}/thumbnail/"' in page
    assert "srcset" not in page


def test_it_sizes_the_grid_images_so_nothing_shifts(client, alice):
    wide = make_image(alice, data=png("teal", (1536, 1024)))
    client.force_login(alice)
    page = client.get("/gallery/").content.decode()
    assert (
        f'srcset="/gallery/{wide.pk}/thumbnail/ 320w, /gallery/{wide.pk}/thumbnail/2x/ 512w"'
        in page
    )
    assert 'width="320" height="213"' in page
    assert 'decoding="async"' in page


def test_it_loads_the_first_row_at_once_and_the_rest_lazily(client, alice):
    for _ in range(8):
        make_image(alice)
    client.force_login(alice)
    page = client.get("/gallery/").content.decode()
    assert page.count('loading="lazy"') == 2  # 8 images, the first 6 eager
    assert "/original/" not in page
