"""POST /generations/: good input queues a job; bad input names the field, queues nothing."""

import pytest
from django_tasks_db.models import DBTaskResult

from playground.generations.models import Generation
from tests.jobs import FORM_FIELDS

VALID = {
    **FORM_FIELDS,
    "prompt": "a red kite over the sea",
    "quality": "medium",
    "n": "2",
    "partial_images": "1",
}


def post(client, htmx: bool = True, **changes):
    data = {**VALID, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/generations/", data, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_it_queues_a_job_and_returns_its_card(logged_in, alice, upstream):
    response = post(logged_in)
    assert response.status_code == 201
    job = Generation.objects.get()
    assert job.owner == alice and job.state == "queued"
    assert job.params == {
        "model": "gpt-image-2",
        "prompt": "a red kite over the sea",
        "n": 2,
        "size": "1024x1024",
        "quality": "medium",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        "partial_images": 1,
    }
    assert f'id="job-{job.pk}"' in response.content.decode()
    assert "generation-created" in response["HX-Trigger"]
    task = DBTaskResult.objects.get()
    assert task.args_kwargs == {"args": [job.pk], "kwargs": {}}
    assert job.task_id == str(task.id)
    assert upstream.requests == []  # the worker calls upstream, not the web request


@pytest.mark.django_db
def test_it_redirects_without_htmx(logged_in):
    response = post(logged_in, htmx=False)
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
def test_it_accepts_a_free_size_for_the_gpt_image_2_family(logged_in):
    assert post(logged_in, size="2048x1152").status_code == 201
    assert Generation.objects.get().params["size"] == "2048x1152"


@pytest.mark.django_db
def test_it_leaves_out_compression_unless_given(logged_in):
    post(logged_in, output_format="jpeg", output_compression="70")
    post(logged_in, output_format="webp")
    first, second = Generation.objects.order_by("id")
    assert first.params["output_compression"] == 70
    assert "output_compression" not in second.params


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"prompt": ""}, "prompt", "Write a prompt"),
        ({"prompt": "x" * 32_001}, "prompt", "32,001 characters"),
        ({"n": "0"}, "n", "greater than or equal to 1"),
        ({"n": "11"}, "n", "at most 10 images"),
        ({"size": "1000x1000"}, "size", "multiples of 16"),
        ({"size": "3840x1024"}, "size", "aspect ratio"),
        ({"model": "gpt-image-1.5", "size": "2048x2048"}, "size", "takes only these sizes"),
        ({"output_compression": "50"}, "output_compression", "only to JPEG or WebP"),
        (
            {"output_format": "jpeg", "background": "transparent"},
            "background",
            "needs PNG or WebP",
        ),
        ({"model": "dall-e-9"}, "model", "Unknown model dall-e-9"),
        ({"model": "gpt-image-1"}, "model", "gpt-image-1 is retired and no longer offered"),
        ({"quality": "ultra"}, "quality", "Select a valid choice"),
    ],
)
@pytest.mark.django_db
def test_it_refuses_bad_input_naming_the_field(logged_in, upstream, changes, field, words):
    response = post(logged_in, **changes)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#generate-form"
    page = response.content.decode()
    assert f'data-error-for="{field}"' in page
    assert page.count("data-error-for=") == 1
    assert words in page.replace("&#x27;", "'")
    assert not Generation.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert upstream.requests == []


@pytest.mark.django_db
def test_it_shows_the_errors_in_the_page_without_htmx(logged_in):
    response = post(logged_in, htmx=False, prompt="")
    assert response.status_code == 422
    assert "Write a prompt describing the image." in response.content.decode()


@pytest.mark.django_db
def test_it_requires_login(client, provider):
    response = post(client)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Generation.objects.exists()
