"""One way to queue a job: reruns are checked like new requests, a failed enqueue leaves
nothing behind, and whatever images arrive are paid for, even for a cancelled job."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from playground.accounts.models import UserBudget
from playground.catalog.models import ImageModel
from playground.gallery.models import Image
from playground.generations import runner
from playground.generations.models import Generation, Preview
from playground.generations.runner import run_generation_job
from playground.generations.watcher import watcher
from playground.inputs.models import InputFile
from playground.pricing.spend import budget_status
from tests.generations.test_edits import FORM as EDIT_FORM
from tests.generations.test_edits import png, upload
from tests.jobs import FORM_FIELDS
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def finished_job(client) -> Generation:
    assert client.post("/generations/", FORM_FIELDS).status_code == 302
    job = Generation.objects.get()
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded"
    return job


def test_it_estimates_a_rerun_like_a_new_request(logged_in, upstream):
    job = finished_job(logged_in)
    response = logged_in.post(f"/generations/{job.pk}/rerun/", headers=HTMX)
    assert response.status_code == 201
    again = Generation.objects.exclude(pk=job.pk).get()
    assert again.estimated_usd_high == job.estimated_usd_high > 0
    assert DBTaskResult.objects.filter(pk=again.task_id).exists()


def test_it_refuses_a_rerun_over_budget(logged_in, alice, upstream):
    job = finished_job(logged_in)
    UserBudget.objects.create(user=alice, monthly_usd=job.actual_usd + Decimal("0.01"))
    for _ in range(5):
        response = logged_in.post(f"/generations/{job.pk}/rerun/", headers=HTMX)
        assert response.status_code == 422
        assert "monthly budget" in response.content.decode()
    assert Generation.objects.count() == 1 and DBTaskResult.objects.count() == 1

    response = logged_in.post(f"/generations/{job.pk}/rerun/", follow=True)
    assert response.redirect_chain[-1][0] == f"/generations/{job.pk}/"
    assert f"Could not run job {job.pk} again" in response.content.decode()
    assert Generation.objects.count() == 1


def test_it_refuses_a_rerun_of_a_retired_model(logged_in, upstream):
    job = finished_job(logged_in)
    ImageModel.objects.filter(model_id=job.model).update(status=ImageModel.Status.RETIRED)
    response = logged_in.post(f"/generations/{job.pk}/rerun/", headers=HTMX)
    assert response.status_code == 422
    assert "gpt-image-2 is retired and no longer offered" in response.content.decode()
    assert Generation.objects.count() == 1


def test_it_refuses_a_rerun_whose_parameters_the_model_no_longer_takes(logged_in, upstream):
    job = finished_job(logged_in)
    ImageModel.objects.filter(model_id=job.model).update(qualities=["low", "medium"])
    response = logged_in.post(f"/generations/{job.pk}/rerun/", headers=HTMX)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert Generation.objects.count() == 1


def test_it_leaves_nothing_behind_when_the_task_cannot_be_queued(
    logged_in, upstream, monkeypatch, test_settings
):
    def broken(*args, **kwargs):
        raise OperationalError("too many connections")

    media = test_settings / "media"
    files_before = {p for p in media.rglob("*") if p.is_file()}
    monkeypatch.setattr(DatabaseBackend, "enqueue", broken)
    data = {**EDIT_FORM, "image[]": [upload("a.png", png((320, 211), "teal"))]}
    response = logged_in.post("/generations/", data, headers=HTMX)
    assert response.status_code == 503
    assert "could not be queued" in response.content.decode()
    assert not Generation.objects.exists() and not InputFile.objects.exists()
    assert {p for p in media.rglob("*") if p.is_file()} == files_before


def test_it_counts_the_images_that_arrived_before_a_cancel(logged_in, alice, upstream, monkeypatch):
    """The person cancels as the first image is stored: all images are kept and paid for."""
    assert logged_in.post("/generations/", {**FORM_FIELDS, "n": "2"}).status_code == 302
    job = Generation.objects.get()
    store = runner.store_original

    def store_then_cancel(generation, index, *args, **kwargs):
        image = store(generation, index, *args, **kwargs)
        if index == 0:
            assert logged_in.post(f"/generations/{job.pk}/cancel/").status_code == 302
        return image

    monkeypatch.setattr(runner, "store_original", store_then_cancel)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "cancelled" and job.images.count() == 2
    assert job.usage["output_tokens"] > 0 and job.actual_usd > 0
    assert budget_status(alice).spent == job.actual_usd
    assert budget_status(alice).in_flight == 0


def test_it_keeps_and_counts_a_streamed_image_that_completed_before_a_cancel(
    logged_in, alice, upstream
):
    upstream.set_latency(8)  # two images, one preview each: an event every two seconds
    data = {**FORM_FIELDS, "n": "2", "partial_images": "1"}
    assert logged_in.post("/generations/", data).status_code == 302
    job = Generation.objects.get()
    thread = threading.Thread(target=run_generation_job, args=(job.pk,))
    thread.start()
    try:
        # A preview of the second image means the first one has completed.
        assert wait_for(lambda: Preview.objects.filter(image_index=1).exists(), timeout=15)
        assert logged_in.post(f"/generations/{job.pk}/cancel/").status_code == 302
        # The watcher's round, run now rather than up to a second later, while the second
        # image is still on its way: a busy machine must not let it arrive first.
        watcher.check()
    finally:
        thread.join(timeout=30)
    assert not thread.is_alive()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert Image.objects.filter(generation=job).count() == 1
    assert job.actual_usd is not None and job.actual_usd > 0
    assert budget_status(alice).spent == job.actual_usd


def test_it_writes_edit_files_before_taking_the_lock_and_removes_them_when_refused(
    logged_in, alice, upstream, monkeypatch, test_settings
):
    from django.db import connection

    from playground.generations import edit_inputs

    seen: list[bool] = []
    stage = edit_inputs.stage_input

    def watched_stage(image):
        seen.append(connection.in_atomic_block)
        return stage(image)

    monkeypatch.setattr(edit_inputs, "stage_input", watched_stage)
    media = test_settings / "media"
    files_before = {p for p in media.rglob("*") if p.is_file()}
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.00"))
    images = [upload("a.png", png((300, 211), "navy")), upload("b.png", png((64, 80), "gold"))]
    response = logged_in.post("/generations/", {**EDIT_FORM, "image[]": images}, headers=HTMX)
    assert response.status_code == 422 and "monthly budget" in response.content.decode()
    assert seen == [False, False]  # copied and thumbnailed with no transaction open
    assert not InputFile.objects.exists()
    assert {p for p in media.rglob("*") if p.is_file()} == files_before
