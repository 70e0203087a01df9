"""/s/<token>/<position>/...: a link's image files, checked against the link on every request."""

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from playground.sharing.models import ShareLink
from playground.sharing.services import create_share
from tests.sharing.conftest import make_image, png_bytes

pytestmark = pytest.mark.django_db

KINDS = ("display", "original", "download", "thumbnail")


@pytest.fixture
def link(alice) -> ShareLink:  # type: ignore[no-untyped-def]
    images = [make_image(alice, seed=n) for n in (11, 12)]
    return create_share(alice, images, None, False)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def test_it_downloads_the_original_bytes(client, link):
    for position, seed in ((1, 11), (2, 12)):
        response = client.get(f"/s/{link.token}/{position}/download/")
        assert response.status_code == 200
        data = body(response)
        assert data == png_bytes(seed=seed)
        stored = link.items.get(position=position).image
        assert hashlib.sha256(data).hexdigest() == stored.sha256
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == (
            f'attachment; filename="shared-image-{position}.png"'
        )


def test_it_serves_each_kind_of_file(client, link):
    types = {
        "display": "image/jpeg",
        "original": "image/png",
        "download": "image/png",
        "thumbnail": "image/webp",
    }
    for kind, content_type in types.items():
        response = client.get(f"/s/{link.token}/1/{kind}/")
        assert response.status_code == 200, kind
        assert response["Content-Type"] == content_type
        assert body(response)
        assert response["X-Robots-Tag"] == "noindex"
        assert response["Referrer-Policy"] == "no-referrer"
    assert body(client.get(f"/s/{link.token}/1/original/")) == png_bytes(seed=11)


def test_it_is_revalidated_on_every_use(client, link):
    response = client.get(f"/s/{link.token}/1/display/")
    etag = response["ETag"]
    assert etag.startswith('"') and response["Cache-Control"] == "private, no-cache"
    again = client.get(f"/s/{link.token}/1/display/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag and again["Cache-Control"] == "private, no-cache"


def test_it_tags_files_per_link(client, alice, link):
    image = link.items.get(position=1).image
    other = create_share(alice, [image], None, False)
    first = client.get(f"/s/{link.token}/1/original/")["ETag"]
    second = client.get(f"/s/{other.token}/1/original/")["ETag"]
    assert first != second and image.sha256[:16] not in first


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_it_stops_serving_at_once_even_a_cached_copy(client, link, how):
    etags = {}
    for kind in KINDS:
        response = client.get(f"/s/{link.token}/1/{kind}/")
        assert response.status_code == 200
        etags[kind] = response["ETag"]
    if how == "revoked":
        link.revoke()
    else:
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    for kind in KINDS:
        for position in (1, 2):
            url = f"/s/{link.token}/{position}/{kind}/"
            # A browser or proxy revalidating its copy: the link is checked before any 304.
            cached = client.get(url, headers={"If-None-Match": etags[kind]})
            assert cached.status_code == 410, url
            assert client.get(url).status_code == 410, url


def test_it_serves_until_the_expiry(client, alice):
    image = make_image(alice)
    link = create_share(alice, [image], timezone.now() + timedelta(hours=1), False)
    assert client.get(f"/s/{link.token}/1/display/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/s/{link.token}/1/display/").status_code == 410


@pytest.mark.parametrize("position", ["0", "3", "200", "201", "99999999999999999999999"])
def test_it_answers_404_beyond_the_set(client, alice, link, position):
    make_image(alice, seed=99)  # another image of the owner, not in the link
    for kind in KINDS:
        assert client.get(f"/s/{link.token}/{position}/{kind}/").status_code == 404


def test_it_answers_404_to_guessed_tokens(client, link):
    for _ in range(20):
        token = secrets.token_urlsafe(24)
        for kind in KINDS:
            assert client.get(f"/s/{token}/1/{kind}/").status_code == 404
    assert client.get(f"/s/{link.token[:-2]}/1/original/").status_code == 404


def test_it_answers_404_for_an_image_deleted_since(client, link):
    link.items.get(position=2).image.delete()
    assert client.get(f"/s/{link.token}/2/original/").status_code == 404
    assert client.get(f"/s/{link.token}/1/original/").status_code == 200


def test_it_takes_no_other_method(client, link):
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(f"/s/{link.token}/1/original/")
        assert response.status_code in (403, 405), method
