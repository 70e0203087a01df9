"""A person deletes a job from its card or from an image page: the job and its images go."""

import io

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations.models import Generation
from tests.browser.conftest import log_in, screenshot
from tests.jobs import make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def is_deleted(job: Generation) -> bool:
    """Deleted: hidden everywhere and emptied; the row stays only for what it cost."""
    row = Generation.objects.get(pk=job.pk)
    return row.deleted_at is not None and row.prompt == "" and row.mask_id is None


def test_it_deletes_a_job_from_its_card(page, alice, provider, upstream, worker):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "a paper boat on a pond")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    job = Generation.objects.get()
    image = job.images.get()
    in_gallery = page.locator(f'a[href="/gallery/{image.pk}/"]')
    page.goto("/gallery/")
    expect(in_gallery).to_have_count(1)
    page.goto("/")
    card = page.locator(f"#job-{job.pk}")
    screenshot(page, "delete-job-card")

    asked: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    button = card.get_by_role("button", name="Delete job")
    # Keyboard only: focus the control and press Enter. Saying no keeps everything.
    button.focus()
    page.keyboard.press("Enter")
    expect(card).to_be_visible()
    assert asked == ["Delete this job and its 1 image? Its files are removed for good."]
    assert Generation.objects.filter(pk=job.pk).exists()

    answer["accept"] = True
    button.focus()
    page.keyboard.press("Enter")
    expect(card).to_have_count(0)
    assert not Generation.objects.filter(deleted_at__isnull=True).exists()
    assert not Image.objects.exists()
    assert page.request.get(f"/gallery/{image.pk}/original/").status == 404
    assert page.request.get(f"/generations/{job.pk}/").status == 404

    page.reload()
    expect(page.locator("#results article.job")).to_have_count(0)
    page.click("nav >> text=Gallery")
    expect(page.locator("h1")).to_have_text("Gallery")
    expect(in_gallery).to_have_count(0)


def test_it_deletes_a_job_from_the_image_page(page, live_server, alice):
    job = make_job(alice, state="succeeded")
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), "teal").save(out, "PNG")
    image = store_image(job, 0, out.getvalue())
    log_in(page, "alice", "alice-password-1")
    page.goto(f"/gallery/{image.pk}/")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete job").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text(f"Job {job.pk} and its images were deleted.")
    assert not Generation.objects.filter(deleted_at__isnull=True).exists()
    assert not Image.objects.exists()
    assert page.request.get(f"/gallery/{image.pk}/").status == 404
