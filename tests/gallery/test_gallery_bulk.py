"""Bulk actions on selected images: a streamed ZIP of the originals, and delete after asking."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.files.storage import FileSystemStorage
from PIL import Image as PILImage

from playground.gallery.archive import ZipResponse
from playground.gallery.models import Image
from tests.gallery.gallery_images import make_image, png

pytestmark = pytest.mark.django_db


def encoded(color: str, fmt: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (96, 64), color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def images(alice) -> list[Image]:
    return [
        make_image(alice, "png", data=encoded("red", "PNG")),
        make_image(alice, "jpeg", data=encoded("blue", "JPEG")),
        make_image(alice, "webp", data=encoded("green", "WEBP")),
    ]


def download(client, ids: list[int]):
    return client.get("/gallery/download/", {"image": ids})


def unzip(response) -> zipfile.ZipFile:
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    return zipfile.ZipFile(io.BytesIO(body))


def stored_sha256(image: Image) -> str:
    with image.file.open("rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def test_it_streams_a_zip_of_the_original_files(client, alice, images):
    client.force_login(alice)
    response = download(client, [image.pk for image in images])
    assert response.status_code == 200
    assert isinstance(response, ZipResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="images-')
    archive = unzip(response)
    assert archive.testzip() is None
    members = {info.filename: info for info in archive.infolist()}
    expected = {
        f"image-{image.generation_id}-1.{'jpg' if image.format == 'jpeg' else image.format}": image
        for image in images
    }
    assert set(members) == set(expected)
    for name, image in expected.items():
        data = archive.read(name)
        assert hashlib.sha256(data).hexdigest() == image.sha256 == stored_sha256(image)
        assert members[name].compress_type == zipfile.ZIP_STORED  # bytes exactly as stored


def test_it_reads_each_file_only_when_the_archive_reaches_it(client, alice, images, monkeypatch):
    opened: list[str] = []
    real_open = FileSystemStorage.open

    def recording_open(self, name, mode="rb"):
        opened.append(name)
        return real_open(self, name, mode)

    monkeypatch.setattr(FileSystemStorage, "open", recording_open)
    client.force_login(alice)
    response = download(client, [image.pk for image in images])
    assert opened == []  # nothing read before the response starts
    chunks = iter(response.streaming_content)
    next(chunks)
    next(chunks)
    assert len(opened) == 1
    b"".join(chunks)
    assert len(opened) == 3


def test_it_streams_the_same_bytes_over_asgi(client, alice, images):
    client.force_login(alice)
    ids = [image.pk for image in images]
    whole = b"".join(download(client, ids).streaming_content)

    async def collect(response) -> bytes:
        return b"".join([block async for block in response])

    assert async_to_sync(collect)(download(client, ids)) == whole


def test_it_zips_only_the_owners_images(client, alice, bob, images):
    theirs = make_image(bob, "bob's")
    client.force_login(alice)
    archive = unzip(download(client, [images[0].pk, theirs.pk]))
    assert archive.namelist() == [f"image-{images[0].generation_id}-1.png"]
    assert download(client, [theirs.pk]).status_code == 404


def test_it_names_images_of_one_job_apart(client, alice):
    first = make_image(alice, "one job", data=png("red"))
    second = make_image(alice, "one job", data=png("blue"))
    Image.objects.filter(pk=second.pk).update(generation=first.generation)  # same job, index
    client.force_login(alice)
    names = unzip(download(client, [first.pk, second.pk])).namelist()
    assert len(set(names)) == 2
    assert f"image-{first.generation_id}-1.png" in names


def test_it_asks_for_a_selection_before_downloading(client, alice, images):
    client.force_login(alice)
    response = client.get("/gallery/download/", {"next": "/gallery/?q=kite"})
    assert response.status_code == 302
    assert response["Location"] == "/gallery/?q=kite"
    follow = client.get(response["Location"])
    assert "Select at least one image to download." in follow.content.decode()


def test_it_asks_before_deleting_the_selection(client, alice, images):
    client.force_login(alice)
    ids = [image.pk for image in images[:2]]
    response = client.get("/gallery/delete/", {"image": ids, "next": "/gallery/?q=x"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Delete 2 images?" in page
    assert page.count('type="hidden" name="image"') == 2
    assert Image.objects.count() == 3


def test_it_deletes_the_selection_and_its_files(
    client, alice, bob, images, settings, django_capture_on_commit_callbacks
):
    theirs = make_image(bob, "bob's")
    media = Path(settings.MEDIA_ROOT)
    files = [media / image.file.name for image in images[:2]]
    thumbnails = [media / image.thumbnail.name for image in images[:2]]
    assert all(path.exists() for path in files + thumbnails)
    client.force_login(alice)
    ids = [images[0].pk, images[1].pk, theirs.pk]
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        response = client.post("/gallery/delete/", {"image": ids, "next": "/gallery/?sort=oldest"})
    assert response.status_code == 302
    assert response["Location"] == "/gallery/?sort=oldest"
    assert set(Image.objects.values_list("pk", flat=True)) == {images[2].pk, theirs.pk}
    assert not any(path.exists() for path in files + thumbnails)
    assert "2 images deleted." in client.get(response["Location"]).content.decode()


def test_it_deletes_nothing_of_someone_else(client, bob, images):
    client.force_login(bob)
    response = client.post("/gallery/delete/", {"image": [image.pk for image in images]})
    assert response.status_code == 302
    assert Image.objects.count() == 3


def test_it_ignores_ids_that_are_not_ids(client, alice, images):
    client.force_login(alice)
    junk = ["99999999999999999999999", "\u0661\u0662", "-1", "x", ""]
    assert client.post("/gallery/delete/", {"image": junk}).status_code == 302
    assert client.get("/gallery/download/", {"image": junk}).status_code == 404
    assert Image.objects.count() == 3


def test_it_shows_the_selection_toolbar_with_the_share_dialog(client, alice, images):
    client.force_login(alice)
    page = client.get("/gallery/").content.decode()
    assert 'id="gallery-selection"' in page
    assert page.count('form="gallery-selection" data-selection-box') == 3
    assert 'formaction="/gallery/download/"' in page
    assert 'formaction="/gallery/delete/"' in page
    assert 'id="gallery-share"' in page and 'action="/shares/new/"' in page
