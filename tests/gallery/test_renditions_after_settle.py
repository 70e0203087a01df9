"""While a worker's rendition threads have room, a job's renditions are made before it settles.
In a burst of results a job settles as soon as its originals are stored and the renditions
follow; until then the large view serves the original and a thumbnail is made from it on
request (a grid never loads an original), neither of them kept by a browser for good."""

import io
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import (
    THUMBNAIL_EDGE,
    make_renditions,
    store_original,
    store_renditions,
)
from playground.generations import renditions, runner
from playground.generations.deletion import delete_job
from playground.generations.management.commands.run_worker import (
    RENDITIONS_LATE_AFTER,
    make_missing_renditions,
)
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.sharing.services import create_share
from tests.jobs import make_job
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def png(size: tuple[int, int] = (1200, 800), colour: str = "teal") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def media_files(test_settings) -> set[str]:  # type: ignore[no-untyped-def]
    media = test_settings / "media"
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def served(response) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response["Content-Type"], body


def test_an_unhurried_job_settles_with_its_renditions_made(alice, provider, upstream, monkeypatch):
    seen_at_settle: list[bool] = []
    settle = runner.settle_with_images

    def settle_and_look(generation_id: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        images = Image.objects.filter(generation_id=generation_id)
        seen_at_settle.extend(bool(i.thumbnail and i.display) for i in images)
        return settle(generation_id, *args, **kwargs)

    monkeypatch.setattr(runner, "settle_with_images", settle_and_look)
    job = make_job(alice, provider, n=2)
    run_generation_job(job.pk)
    assert Generation.objects.get(pk=job.pk).state == "succeeded"
    assert seen_at_settle == [True, True]


def test_in_a_burst_a_job_settles_before_its_renditions_and_shows_the_original_meanwhile(
    client, alice, provider, upstream, monkeypatch
):
    monkeypatch.setattr(runner, "has_room_for", lambda count: False)  # threads busy
    gate = threading.Event()
    real = renditions.make_renditions

    def held(data: bytes):  # type: ignore[no-untyped-def]
        assert gate.wait(30)
        return real(data)

    monkeypatch.setattr(renditions, "make_renditions", held)
    job = make_job(alice, provider, n=2)
    running = threading.Thread(target=run_generation_job, args=(job.pk,))
    running.start()
    try:
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded", timeout=20)
        images = list(Image.objects.filter(generation=job).order_by("index"))
        assert len(images) == 2
        assert all(not i.thumbnail and not i.display and not i.thumbnail_2x for i in images)
        client.force_login(alice)
        original = images[0].file.read()
        response = client.get(f"/gallery/{images[0].pk}/display/")
        assert served(response) == ("image/png", original)
        assert response["Cache-Control"] == "private, no-cache"
        for view in ("thumbnail", "thumbnail/2x"):
            response = client.get(f"/gallery/{images[0].pk}/{view}/")
            content_type, data = served(response)
            assert content_type == "image/webp" and len(data) < len(original) / 4, view
            with PILImage.open(io.BytesIO(data)) as thumbnail:
                assert max(thumbnail.size) == THUMBNAIL_EDGE, view
            assert response["Cache-Control"] == "private, no-cache", view
        stand_in_etag = client.get(f"/gallery/{images[0].pk}/thumbnail/")["ETag"]
    finally:
        gate.set()
        running.join(30)
    assert not running.is_alive()

    for image in Image.objects.filter(generation=job):
        assert image.thumbnail and image.display and image.thumbnail_2x
    response = client.get(
        f"/gallery/{images[0].pk}/thumbnail/", headers={"If-None-Match": stand_in_etag}
    )
    assert response.status_code == 200  # the stand-in's ETag no longer matches
    content_type, data = served(response)
    assert content_type == "image/webp" and data[:4] == b"RIFF"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"


def test_a_shared_image_works_before_its_renditions_exist(client, alice):
    data = png()
    image = store_original(make_job(alice, state="succeeded"), 0, data)
    share = create_share(alice, [image], None, False)

    assert client.get(f"/s/{share.token}/").status_code == 200
    assert served(client.get(f"/s/{share.token}/1/display/")) == ("image/png", data)
    pending = client.get(f"/s/{share.token}/1/thumbnail/")
    content_type, made_there = served(pending)
    assert content_type == "image/webp"
    with PILImage.open(io.BytesIO(made_there)) as thumbnail:
        assert max(thumbnail.size) == THUMBNAIL_EDGE

    assert store_renditions(image, make_renditions(data))
    response = client.get(
        f"/s/{share.token}/1/thumbnail/", headers={"If-None-Match": pending["ETag"]}
    )
    content_type, stored = served(response)
    assert content_type == "image/webp" and stored == image.thumbnail.read()


def test_an_original_is_stored_from_its_header_alone(alice):
    data = png((1536, 1024))
    image = store_original(make_job(alice, state="running"), 0, data)
    image.refresh_from_db()
    assert (image.format, image.width, image.height, image.byte_size) == (
        "png",
        1536,
        1024,
        len(data),
    )
    assert image.file.read() == data
    assert not image.thumbnail and not image.display


def test_renditions_for_a_job_deleted_meanwhile_leave_no_file(alice, test_settings):
    data = png()
    job = make_job(alice, state="succeeded")
    image = store_original(job, 0, data)
    before = media_files(test_settings)
    delete_job(Generation.objects.get(pk=job.pk))

    assert store_renditions(image, make_renditions(data)) is False
    assert not Image.objects.filter(pk=image.pk).exists()
    assert media_files(test_settings) <= before  # none of the renditions stayed


def test_renditions_for_an_image_deleted_meanwhile_leave_no_file(alice, test_settings):
    data = png()
    image = store_original(make_job(alice, state="succeeded"), 0, data)
    before = media_files(test_settings)
    Image.objects.filter(pk=image.pk).delete()

    assert store_renditions(image, make_renditions(data)) is False
    assert media_files(test_settings) == before


def test_two_workers_adding_the_same_renditions_keep_one_set(alice, test_settings):
    data = png()
    image = store_original(make_job(alice, state="succeeded"), 0, data)
    twin = Image.objects.get(pk=image.pk)

    assert store_renditions(image, make_renditions(data)) is True
    after_first = media_files(test_settings)
    assert store_renditions(twin, make_renditions(data)) is False
    assert media_files(test_settings) == after_first
    stored = Image.objects.get(pk=image.pk)
    assert stored.thumbnail.name == image.thumbnail.name


def test_the_worker_makes_renditions_a_stopped_worker_left_undone(alice):
    job = make_job(alice, state="succeeded")
    late = timezone.now() - RENDITIONS_LATE_AFTER - timedelta(seconds=5)
    left = store_original(job, 0, png(colour="red"), created_at=late)
    recent = store_original(job, 1, png(colour="blue"))
    broken = store_original(job, 2, png(colour="green")[:200], created_at=late)  # header only

    assert make_missing_renditions() == 1
    left.refresh_from_db()
    assert left.thumbnail and left.display
    assert not Image.objects.get(pk=recent.pk).thumbnail  # its own worker is still on it
    assert not Image.objects.get(pk=broken.pk).thumbnail
    # An image whose renditions cannot be made is not tried again round after round.
    assert broken.pk in renditions._unmakeable
    assert make_missing_renditions() == 0
