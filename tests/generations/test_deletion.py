"""Deleting jobs and images: every file goes, every URL answers 404, shared inputs are counted.

Transactional: files are removed once the deleting transaction commits.
"""

import contextlib
import importlib
import io
import logging
import threading
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations import deletion, runner
from playground.generations.deletion import delete_images, delete_job
from playground.generations.models import Generation, JobDeleted, Preview
from playground.generations.runner import run_generation_job
from playground.inputs.models import InputFile
from playground.pricing.spend import month_totals
from playground.pricing.usage import month_bounds, spend_by_day, spend_by_model
from tests.generations.test_edits import FORM, mask_png, png, upload
from tests.jobs import FORM_FIELDS, make_job

pytestmark = pytest.mark.django_db(transaction=True)


def is_deleted(job: Generation) -> bool:
    """Deleted: hidden everywhere and emptied; the row stays only for what it cost."""
    row = Generation.objects.get(pk=job.pk)
    return row.deleted_at is not None and row.prompt == "" and row.mask_id is None


def media_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def generate(client, **fields: str) -> Generation:  # type: ignore[no-untyped-def]
    """A finished job made through the form and the worker's code: images and previews."""
    data = {**FORM_FIELDS, "quality": "low", "n": "2", "partial_images": "2", **fields}
    response = client.post("/generations/", data)
    assert response.status_code == 302, response.content.decode()
    job = Generation.objects.latest("pk")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    return job


def edit(client, references: list[bytes], mask: bytes | None = None) -> Generation:  # type: ignore[no-untyped-def]
    data = {**FORM, "image[]": [upload(f"ref{i}.png", ref) for i, ref in enumerate(references)]}
    if mask is not None:
        data["mask"] = upload("mask.png", mask)
    response = client.post("/generations/", data)
    assert response.status_code == 302, response.content.decode()
    job = Generation.objects.latest("pk")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    return job


def urls_by_id(module: str, pk: int) -> list[str]:
    """Every URL of a urls module addressed by this id alone: ones added later are checked too."""
    patterns = importlib.import_module(module).urlpatterns
    return [
        reverse(p.name, kwargs={"pk": pk}) for p in patterns if set(p.pattern.converters) == {"pk"}
    ]


def image_urls(image: Image) -> list[str]:
    return urls_by_id("playground.gallery.urls", image.pk)


def job_urls(job: Generation) -> list[str]:
    urls = urls_by_id("playground.generations.urls", job.pk)
    urls += [
        reverse("preview-file", kwargs={"pk": job.pk, "preview_pk": preview.pk})
        for preview in job.previews.all()
    ]
    for item in job.inputs.all():
        url = reverse("generation-input", kwargs={"pk": job.pk, "position": item.position})
        urls += [url, f"{url}?thumb"]
    if job.mask_id:
        urls.append(reverse("generation-mask", kwargs={"pk": job.pk}) + "?thumb")
    for image in job.images.all():
        urls += image_urls(image)
    return urls


def status(response) -> int:  # type: ignore[no-untyped-def]
    response.close()  # a file response holds its file open until closed
    return response.status_code


def served(client, urls: list[str]) -> set[int]:  # type: ignore[no-untyped-def]
    """What GET answers (405 for the URLs that only take a POST)."""
    return {status(client.get(url)) for url in urls}


def answered(client, urls: list[str]) -> set[int]:  # type: ignore[no-untyped-def]
    """What each URL answers to GET, or to POST when it takes only that."""
    statuses = set()
    for url in urls:
        answer = status(client.get(url))
        statuses.add(status(client.post(url)) if answer == 405 else answer)
    return statuses


def test_it_deletes_a_job_with_its_images_renditions_and_previews(logged_in, settings):
    before = media_files(settings)
    job = generate(logged_in)
    written = media_files(settings) - before
    assert {name.split("/")[0] for name in written} >= {"images", "thumbs", "display", "previews"}
    assert job.images.count() == 2 and job.previews.count() == 4

    response = logged_in.post(f"/generations/{job.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/"
    assert media_files(settings) == before
    assert is_deleted(job)
    assert not Image.objects.exists() and not Preview.objects.exists()


def test_it_makes_every_url_of_a_deleted_job_404(logged_in):
    job = edit(logged_in, [png((64, 48)), png((32, 32), "blue")], mask_png((64, 48), (0, 0, 9, 9)))
    urls = job_urls(job)
    image = job.images.get()
    assert {
        reverse(name, args=[image.pk])
        for name in ("image-detail", "image-original", "image-download", "image-thumbnail")
    } | {
        reverse("generation-detail", args=[job.pk]),
        reverse("generation-mask", args=[job.pk]),
        reverse("generation-input", args=[job.pk, 1]),
    } <= set(urls)
    assert served(logged_in, urls) == {200, 405}

    logged_in.post(f"/generations/{job.pk}/delete/")

    assert answered(logged_in, urls) == {404}
    assert not InputFile.objects.exists()


def test_it_makes_every_url_of_a_deleted_image_404_and_keeps_its_job(logged_in, settings):
    job = generate(logged_in)
    first, second = job.images.order_by("index")
    first_urls = image_urls(first)
    first_previews = list(job.previews.filter(image_index=first.index))
    kept_previews = list(job.previews.filter(image_index=second.index))
    gone = {first.file.name, first.thumbnail.name, first.display.name}
    gone |= {p.file.name for p in first_previews}

    response = logged_in.post(f"/gallery/{first.pk}/delete/")

    assert response.status_code == 302
    assert answered(logged_in, first_urls) == {404}
    for preview in first_previews:
        assert status(logged_in.get(f"/generations/{job.pk}/previews/{preview.pk}/")) == 404
    assert not gone & media_files(settings)
    # The rest of the job is untouched.
    assert list(job.images.all()) == [second]
    assert list(job.previews.all()) == kept_previews
    assert status(logged_in.get(f"/gallery/{second.pk}/original/")) == 200
    assert logged_in.get(f"/generations/{job.pk}/").status_code == 200


def test_it_keeps_a_shared_reference_and_mask_until_the_last_job_using_them(logged_in, settings):
    before = media_files(settings)
    shared, own = png((64, 48)), png((40, 40), "green")
    mask = mask_png((64, 48), (10, 10, 30, 30))
    first = edit(logged_in, [shared, own], mask)
    second = edit(logged_in, [shared], mask)
    # "Run again" refers to the same stored files as well.
    logged_in.post(f"/generations/{second.pk}/rerun/")
    third = Generation.objects.latest("pk")
    shared_row = first.inputs.get(position=0).input_file
    own_row = first.inputs.get(position=1).input_file
    assert second.inputs.get().input_file == shared_row == third.inputs.get().input_file
    assert first.mask == second.mask == third.mask
    kept = {shared_row.file.name, shared_row.thumbnail.name, first.mask.file.name}

    logged_in.post(f"/generations/{first.pk}/delete/")

    assert not InputFile.objects.filter(pk=own_row.pk).exists()
    assert own_row.file.name not in media_files(settings)
    assert kept <= media_files(settings)
    assert set(InputFile.objects.all()) == {shared_row, first.mask}
    for job in (second, third):
        assert served(logged_in, job_urls(job)) == {200, 405}

    logged_in.post(f"/generations/{second.pk}/delete/")
    assert kept <= media_files(settings)  # the rerun still uses them
    logged_in.post(f"/generations/{third.pk}/delete/")

    assert not InputFile.objects.exists()
    assert media_files(settings) == before


def test_two_jobs_sharing_files_deleted_at_once_remove_them_exactly_once(
    logged_in, settings, monkeypatch
):
    before = media_files(settings)
    reference, mask = png((64, 48), "purple"), mask_png((64, 48), (0, 0, 20, 20))
    jobs = [edit(logged_in, [reference], mask) for _ in range(2)]
    # The worst interleaving: both jobs' rows are deleted (not yet committed) before either
    # counts who still uses the files. SQLite runs one writer at a time, so there the first
    # waits out the timeout and the two deletes simply follow each other.
    both_deleted = threading.Barrier(2)
    release_inputs = deletion._release_inputs

    def release_together(pks):  # type: ignore[no-untyped-def]
        with contextlib.suppress(threading.BrokenBarrierError):
            both_deleted.wait(timeout=2)
        return release_inputs(pks)

    monkeypatch.setattr(deletion, "_release_inputs", release_together)
    errors: list[BaseException] = []

    def delete(job: Generation) -> None:
        try:
            delete_job(job)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=delete, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert not Generation.objects.filter(deleted_at__isnull=True).exists()
    assert not InputFile.objects.exists(), "a file both jobs used was left behind"
    assert media_files(settings) == before


def test_it_refuses_another_users_job(client, alice, bob, provider, settings):
    client.force_login(alice)
    job = generate(client)
    files = media_files(settings)
    client.force_login(bob)

    assert client.get(f"/generations/{job.pk}/delete/").status_code == 404
    assert client.post(f"/generations/{job.pk}/delete/").status_code == 404
    assert (
        client.post(f"/generations/{job.pk}/delete/", headers={"HX-Request": "true"}).status_code
        == 404
    )

    assert Generation.objects.filter(pk=job.pk).exists() and job.images.count() == 2
    assert media_files(settings) == files


def test_it_asks_for_confirmation_without_javascript(logged_in):
    job = generate(logged_in)
    page = logged_in.get(f"/generations/{job.pk}/delete/").content.decode()
    assert "Delete this job?" in page
    assert f'<form method="post" action="/generations/{job.pk}/delete/">' in page
    assert Generation.objects.filter(pk=job.pk).exists()

    response = logged_in.post(f"/generations/{job.pk}/delete/", follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert f"Job {job.pk} and its images were deleted." in response.content.decode()
    assert f'id="job-{job.pk}"' not in response.content.decode()


def test_it_removes_the_card_it_was_deleted_from(logged_in):
    job = generate(logged_in)
    card = logged_in.get("/").content.decode()
    assert f'hx-post="/generations/{job.pk}/delete/"' in card
    assert f'hx-target="#job-{job.pk}"' in card

    response = logged_in.post(
        f"/generations/{job.pk}/delete/",
        headers={"HX-Request": "true", "HX-Target": f"job-{job.pk}"},
    )

    assert response.status_code == 200 and response.content == b""
    assert response["HX-Retarget"] == f"#job-{job.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert f'"job-deleted": {{"id": {job.pk}}}' in response["HX-Trigger"]
    assert is_deleted(job)


def test_it_goes_to_the_playground_when_deleted_from_another_page(logged_in):
    job = generate(logged_in)
    button = render_to_string("generations/delete_job_button.html", {"job": job})
    assert 'hx-target="this"' in button and f"#job-{job.pk}" not in button
    assert 'hx-confirm="Delete this job and its 2 images?' in button

    response = logged_in.post(f"/generations/{job.pk}/delete/", headers={"HX-Request": "true"})

    assert response.status_code == 200 and response["HX-Redirect"] == "/"
    assert is_deleted(job)


def test_it_offers_delete_on_finished_cards(logged_in, alice):
    done = generate(logged_in)
    queued = make_job(alice)
    page = logged_in.get("/").content.decode()
    assert f"/generations/{done.pk}/delete/" in page
    assert f"/generations/{queued.pk}/delete/" not in page  # Cancel first, then delete


def test_deleting_images_never_changes_spend(logged_in, alice):
    job = generate(logged_in)
    assert job.actual_usd
    period = month_bounds(job.created_at.year, job.created_at.month)
    before = (month_totals(alice), spend_by_day(alice, *period))
    by_model = [(m.model, m.usd, m.jobs) for m in spend_by_model(alice, *period)]

    for image in job.images.all():
        delete_images([image])

    # The job stays, with its cost: its images were paid for.
    assert Generation.objects.get(pk=job.pk).actual_usd == job.actual_usd
    assert (month_totals(alice), spend_by_day(alice, *period)) == before
    assert [(m.model, m.usd, m.jobs) for m in spend_by_model(alice, *period)] == by_model
    assert logged_in.get(f"/generations/{job.pk}/").status_code == 200


def test_deleting_a_job_keeps_its_cost_in_spend(logged_in, alice):
    """Deleting never gives budget back: the emptied row keeps what the job cost."""
    job = generate(logged_in)
    period = month_bounds(job.created_at.year, job.created_at.month)
    before = (month_totals(alice), spend_by_day(alice, *period))
    delete_job(job)
    assert (month_totals(alice), spend_by_day(alice, *period)) == before
    assert logged_in.get(f"/generations/{job.pk}/").status_code == 404


def test_a_worker_finishing_a_deleted_job_leaves_nothing(
    alice, provider, upstream, monkeypatch, settings
):
    before = media_files(settings)
    arrived, go_on = threading.Event(), threading.Event()
    real_call = runner.call_images_api

    def call_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_call(*args, **kwargs)
        arrived.set()  # the images are in memory; the job is deleted before they are stored
        go_on.wait(30)
        return result

    monkeypatch.setattr(runner, "call_images_api", call_then_wait)
    job = make_job(alice, provider, n=2, partial_images=2)

    def work() -> None:
        try:
            run_generation_job(job.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert arrived.wait(30), "the upstream never answered"
        assert Preview.objects.filter(generation=job).count() == 4
        assert Generation.objects.get(pk=job.pk).state == "running"
        delete_job(job)
        assert media_files(settings) == before  # its previews are gone already
    finally:
        go_on.set()
        worker.join(timeout=30)

    assert not worker.is_alive()
    assert is_deleted(job)
    assert not Image.objects.exists() and not Preview.objects.exists()
    assert media_files(settings) == before


def test_storing_an_image_for_a_deleted_job_fails_and_removes_its_files(alice, settings):
    job = make_job(alice, state="succeeded")
    before = media_files(settings)
    delete_job(job)
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32), "red").save(out, "PNG")

    with pytest.raises(JobDeleted):
        store_image(job, 0, out.getvalue())

    assert not Image.objects.exists()
    assert media_files(settings) == before


def test_a_rolled_back_delete_keeps_the_rows_and_their_files(logged_in, settings):
    job = generate(logged_in)
    files = media_files(settings)

    with pytest.raises(RuntimeError), transaction.atomic():
        delete_job(job)
        raise RuntimeError("the enclosing transaction fails")

    assert Generation.objects.filter(pk=job.pk).exists() and job.images.count() == 2
    assert media_files(settings) == files


def test_a_file_that_cannot_be_deleted_is_logged_and_the_rest_still_go(
    logged_in, settings, caplog, monkeypatch
):
    before = media_files(settings)
    job = generate(logged_in)
    stuck = job.images.first().file
    real_delete = FileSystemStorage.delete  # the storage the tests use

    def delete(self, name):  # type: ignore[no-untyped-def]
        if name == stuck.name:
            raise PermissionError("read-only")
        real_delete(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete)
    with caplog.at_level(logging.WARNING, logger="playground.generations.deletion"):
        delete_job(job)

    assert is_deleted(job)
    assert media_files(settings) - before == {stuck.name}
    assert f"could not delete the stored file {stuck.name}" in caplog.text
    monkeypatch.undo()
    stuck.storage.delete(stuck.name)


def test_it_cancels_an_unfinished_job_before_deleting_it(logged_in, alice, monkeypatch):
    job = make_job(alice, state="queued")
    cancelled: list[str] = []
    real_cancel = Generation.cancel

    def cancel(self: Generation) -> bool:
        done = real_cancel(self)
        cancelled.append(Generation.objects.get(pk=self.pk).state)
        return done

    monkeypatch.setattr(Generation, "cancel", cancel)
    response = logged_in.post(f"/generations/{job.pk}/delete/")

    assert response.status_code == 302 and cancelled == ["cancelled"]
    assert is_deleted(job)
    run_generation_job(job.pk)  # its task still runs, and finds nothing to do
    assert not Generation.objects.filter(deleted_at__isnull=True).exists()
    assert not Image.objects.exists()
