"""Media in a private S3 bucket (moto's server on loopback), served through the app's views."""

import hashlib
import io
import os
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test.utils import override_settings
from moto.server import ThreadedMotoServer
from PIL import Image as PILImage

from playground.core.media_storage import MAX_MEMORY_SIZE, S3_BACKEND
from playground.core.media_storage import default_storage as storage_from_env
from playground.gallery.models import Image
from playground.gallery.provenance import read_provenance
from playground.generations.models import Generation, Preview
from playground.generations.previews import store_preview
from playground.generations.runner import run_generation_job
from playground.inputs.images import normalize_reference
from playground.inputs.models import InputFile
from playground.inputs.storage import save_staged, stage_input
from playground.sharing.services import create_share
from tests.generations.test_edits import FORM, mask_png, png, upload
from tests.jobs import FORM_FIELDS, make_job
from tests.sharing.conftest import make_image, png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PREFIX = "playground/media"


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: object  # boto3's S3 client, signed with the test credentials

    def listing(self) -> set[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return {item["Key"] for item in listed.get("Contents", [])}

    def key(self, name: str) -> str:
        return f"{PREFIX}/{name}"

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=self.key(name))["Body"].read()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server over loopback; boto3 reads the credentials from the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[Bucket]:
    """A new private bucket, the default storage for the test, built as settings.py builds it."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name, ACL="private")
    env = {
        "MEDIA_BUCKET": name,
        "MEDIA_ENDPOINT_URL": s3_endpoint,
        "MEDIA_REGION": "us-east-1",
        "MEDIA_PREFIX": PREFIX,
    }
    storages = {**settings.STORAGES, "default": storage_from_env(env)}
    with override_settings(STORAGES=storages):
        yield Bucket(name, s3_endpoint, client)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    data = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(data)
    return data


def local_media() -> set[tuple[str, int]]:
    """The files under MEDIA_ROOT and when each last changed: other tests leave theirs there
    (the same bytes get the same input name), so a test compares before and after."""
    root = Path(settings.MEDIA_ROOT)
    return {(str(path), path.stat().st_mtime_ns) for path in root.rglob("*") if path.is_file()}


def generate(client) -> Generation:  # type: ignore[no-untyped-def]
    assert client.post("/generations/", FORM_FIELDS).status_code == 302
    job = Generation.objects.latest("pk")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    return job


def test_the_default_storage_is_the_bucket(bucket):
    assert settings.STORAGES["default"]["BACKEND"] == S3_BACKEND
    assert default_storage.bucket_name == bucket.name
    assert default_storage.location == PREFIX


def test_generated_images_are_stored_in_the_bucket_and_served_to_their_owner(
    logged_in, client, bob, bucket
):
    before = local_media()
    job = generate(logged_in)
    image = job.images.get()
    names = [image.file.name, image.thumbnail.name, image.display.name]
    if image.thumbnail_2x:
        names.append(image.thumbnail_2x.name)
    assert {bucket.key(name) for name in names} <= bucket.listing()
    assert local_media() == before
    original = bucket.read(image.file.name)
    assert hashlib.sha256(original).hexdigest() == image.sha256

    response = logged_in.get(f"/gallery/{image.pk}/original/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert body(response) == original
    download = logged_in.get(f"/gallery/{image.pk}/download/")
    assert body(download) == original
    assert download["Content-Disposition"] == f'attachment; filename="{image.download_name}"'
    for view, name, content_type in (
        ("thumbnail", image.thumbnail.name, "image/webp"),
        ("display", image.display.name, "image/jpeg"),
    ):
        response = logged_in.get(f"/gallery/{image.pk}/{view}/")
        assert response.status_code == 200 and response["Content-Type"] == content_type
        assert body(response) == bucket.read(name)
    assert PILImage.open(io.BytesIO(bucket.read(image.thumbnail.name))).format == "WEBP"

    client.force_login(bob)
    for view in ("original", "download", "thumbnail", "display"):
        assert client.get(f"/gallery/{image.pk}/{view}/").status_code == 404
    client.logout()
    anonymous = client.get(f"/gallery/{image.pk}/original/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_bucket_refuses_unsigned_reads(logged_in, bucket):
    image = generate(logged_in).images.get()
    key = bucket.key(image.file.name)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{bucket.endpoint}/{bucket.name}/{key}", timeout=10)
    assert refused.value.code == 403
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("/AllUsers")]
    assert "X-Amz-Signature=" in default_storage.url(image.file.name)  # signed if ever made


def test_the_original_streams_over_asgi(logged_in, live_server, bucket):
    image = generate(logged_in).images.get()
    request = urllib.request.Request(
        f"{live_server.url}/gallery/{image.pk}/original/",
        headers={"Cookie": f"sessionid={logged_in.cookies['sessionid'].value}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
        assert response.headers["Content-Length"] == str(len(data))
        assert response.headers["Content-Type"] == "image/png"
    assert data == bucket.read(image.file.name)


def test_a_share_link_serves_images_from_the_bucket(client, alice, bucket):
    images = [make_image(alice, seed=n) for n in (21, 22)]
    assert {bucket.key(image.file.name) for image in images} <= bucket.listing()
    link = create_share(alice, images, None, False)
    for position, seed in ((1, 21), (2, 22)):
        response = client.get(f"/s/{link.token}/{position}/download/")
        assert response.status_code == 200 and body(response) == png_bytes(seed=seed)
        thumbnail = client.get(f"/s/{link.token}/{position}/thumbnail/")
        assert body(thumbnail) == bucket.read(images[position - 1].thumbnail.name)
    assert client.get(f"/s/{link.token}/3/download/").status_code == 404


def test_a_zip_of_several_images_reads_them_from_the_bucket(client, alice, bob, bucket):
    images = [make_image(alice, seed=n, index=0) for n in (31, 32, 33)]
    client.force_login(alice)
    response = client.get("/gallery/download/", {"image": [image.pk for image in images]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    assert sorted(hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist()) == (
        sorted(image.sha256 for image in images)
    )
    client.force_login(bob)
    assert client.get("/gallery/download/", {"image": [images[0].pk]}).status_code == 404


def test_an_edit_reads_its_reference_and_mask_from_the_bucket(
    logged_in, client, bob, upstream, bucket
):
    data = {
        **FORM,
        "image[]": [upload("first.png", png((640, 480)))],
        "mask": upload("mask.png", mask_png((640, 480), (100, 100, 200, 200))),
    }
    before = local_media()
    assert logged_in.post("/generations/", data).status_code == 302
    job = Generation.objects.get()
    stored = job.inputs.get().input_file
    for name in (stored.file.name, stored.thumbnail.name, job.mask.file.name):
        assert bucket.key(name) in bucket.listing()
    assert local_media() == before

    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits") and sent["image_sizes"] == [[640, 480]]
    assert upstream.last_mask == bucket.read(job.mask.file.name)

    reference = logged_in.get(f"/generations/{job.pk}/inputs/0/")
    assert body(reference) == bucket.read(stored.file.name)
    assert body(logged_in.get(f"/generations/{job.pk}/mask/")) == bucket.read(job.mask.file.name)
    client.force_login(bob)
    assert client.get(f"/generations/{job.pk}/mask/").status_code == 404


def test_an_edit_of_a_gallery_image_copies_it_from_the_bucket(logged_in, upstream, bucket):
    parent = generate(logged_in).images.get()
    data = {**FORM, "model": "gpt-image-2", "prompt": "add a kite", "reference": [parent.pk]}
    assert logged_in.post("/generations/", data).status_code == 302
    child = Generation.objects.latest("pk")
    stored = child.inputs.get().input_file
    assert bucket.key(stored.file.name) in bucket.listing()
    run_generation_job(child.pk)
    child.refresh_from_db()
    assert child.state == "succeeded", child.error_message
    assert upstream.requests[-1]["images"] == 1


def test_previews_are_stored_in_and_served_from_the_bucket(logged_in, alice, provider, bucket):
    job = make_job(alice, provider, state="running")
    store_preview(job.pk, 0, 0, png((300, 200), "blue"))
    preview = Preview.objects.get(generation=job)
    assert bucket.key(preview.file.name) in bucket.listing()
    response = logged_in.get(f"/generations/{job.pk}/previews/{preview.pk}/")
    assert response["Content-Type"] == "image/webp"
    assert body(response) == bucket.read(preview.file.name)


def test_deleting_a_job_deletes_its_objects(logged_in, bucket):
    assert logged_in.post("/generations/", {**FORM, "image[]": [upload("a.png", png((64, 64)))]})
    job = Generation.objects.get()
    run_generation_job(job.pk)
    image = job.images.get()
    owned = {
        bucket.key(name)
        for name in (
            image.file.name,
            image.thumbnail.name,
            image.display.name,
            job.inputs.get().input_file.file.name,
        )
    }
    assert owned <= bucket.listing()
    assert logged_in.post(f"/generations/{job.pk}/delete/").status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not owned & bucket.listing()
    assert bucket.listing() == set()


def test_two_writers_given_the_same_name_keep_the_object(bucket):
    """On a bucket both may see the name free and write it: the loser must not delete it."""
    data = png((80, 60), "purple")
    first = stage_input(normalize_reference("a.png", io.BytesIO(data), len(data)))
    twin = InputFile(
        sha256=first.sha256,
        format=first.format,
        width=first.width,
        height=first.height,
        byte_size=first.byte_size,
        file=first.file.name,
        thumbnail=first.thumbnail.name,
    )
    winner, created = save_staged(first)
    assert created
    assert save_staged(twin) == (winner, False)
    assert {bucket.key(winner.file.name), bucket.key(winner.thumbnail.name)} <= bucket.listing()
    assert bucket.read(winner.file.name) == data


def test_provenance_is_read_from_the_bucket(logged_in, bucket):
    image = generate(logged_in).images.get()
    provenance = read_provenance(image)
    assert provenance is None or provenance.readable
    assert logged_in.get(f"/gallery/{image.pk}/").status_code == 200
    bucket.client.delete_object(Bucket=bucket.name, Key=bucket.key(image.file.name))
    image.sha256 = "0" * 64  # not cached under this hash
    missing = read_provenance(image)
    assert missing is not None and not missing.readable


def test_a_large_original_is_read_through_a_file_on_disk(bucket):
    data = os.urandom(MAX_MEMORY_SIZE + 1024)
    name = default_storage.save("images/large.png", ContentFile(data))
    with default_storage.open(name, "rb") as opened:
        assert opened.read() == data
        assert opened.file._rolled  # spooled to a temporary file, not held in memory
    small = default_storage.save("thumbs/small.webp", ContentFile(b"small"))
    with default_storage.open(small, "rb") as opened:
        assert opened.read() == b"small" and not opened.file._rolled


def test_credentials_stay_out_of_the_settings(bucket):
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in repr(settings.STORAGES)
