"""Each user sees only their own jobs and images: everyone else gets 404, never the bytes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from tests.jobs import make_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finished_job(alice, provider, upstream) -> Generation:
    job = make_job(alice, provider, prompt="a secret garden", partial_images=1)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    return job


def urls_of(job: Generation) -> list[str]:
    image = job.images.get()
    preview = job.previews.get()
    return [
        f"/generations/{job.pk}/",
        f"/generations/{job.pk}/previews/{preview.pk}/",
        f"/gallery/{image.pk}/",
        f"/gallery/{image.pk}/original/",
        f"/gallery/{image.pk}/download/",
        f"/gallery/{image.pk}/thumbnail/",
        f"/gallery/{image.pk}/delete/",
    ]


def test_it_serves_the_owner(client, alice, finished_job):
    client.force_login(alice)
    for url in urls_of(finished_job):
        assert client.get(url).status_code == 200, url


def test_it_answers_404_to_another_user(client, bob, finished_job):
    client.force_login(bob)
    for url in urls_of(finished_job):
        assert client.get(url).status_code == 404, url
    image = finished_job.images.get()
    assert client.post(f"/gallery/{image.pk}/delete/").status_code == 404
    assert client.post(f"/generations/{finished_job.pk}/cancel/").status_code == 404
    assert finished_job.images.count() == 1


def test_it_sends_anonymous_visitors_to_login(client, finished_job):
    for url in urls_of(finished_job):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_it_lists_only_your_own_work(client, alice, bob, finished_job):
    client.force_login(bob)
    assert "a secret garden" not in client.get("/").content.decode()
    assert "a secret garden" not in client.get("/gallery/").content.decode()
    client.force_login(alice)
    assert "a secret garden" in client.get("/").content.decode()
    assert "a secret garden" in client.get("/gallery/").content.decode()


def test_it_polls_a_job_card_in_a_fixed_number_of_queries(client, alice, finished_job):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/generations/{finished_job.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert len(queries) <= 6  # session, user, job, and one each for images, previews, inputs
