"""A person submits a prompt, watches the job run, and finds the image in the gallery."""

import re

import pytest
from playwright.sync_api import expect

from playground.generations.models import Generation
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_runs_a_prompt_to_an_image_in_the_gallery(page, alice, provider, upstream, worker):
    upstream.set_latency(2.5)
    log_in(page, "alice", "alice-password-1")
    expect(page.locator(".badge-offline")).to_have_text("Offline demo mode")

    page.fill("#id_prompt", "a lighthouse on a cliff at dusk")
    page.select_option("#id_partial_images", "2")
    page.click("#generate-form button[type=submit]")

    card = page.locator("#results article.job").first
    expect(card).to_be_visible(timeout=3_000)  # at once, before the upstream answers
    expect(card).to_have_attribute("data-state", re.compile("queued|running"))
    expect(card.locator(".thumb.preview img").first).to_be_visible(timeout=10_000)
    screenshot(page, "playground-running")

    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    image = card.locator(".job-images a.thumb img").first
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    screenshot(page, "playground-succeeded")

    # A reload (or another tab) shows the same job.
    page.reload()
    expect(page.locator("#results article.job").first).to_have_attribute("data-state", "succeeded")
    expect(page.locator("#results .job-prompt").first).to_contain_text("a lighthouse on a cliff")

    page.click("nav >> text=Gallery")
    tile = page.locator(".gallery-item a.gallery-link").first
    expect(tile).to_have_attribute("title", re.compile("a lighthouse on a cliff"))
    tile.click()
    expect(page.locator(".prompt-text").first).to_have_text("a lighthouse on a cliff at dusk")
    screenshot(page, "image-page")
    with page.expect_download() as download_info:
        page.click("text=Download PNG")
    download = download_info.value
    job = Generation.objects.get()
    assert download.suggested_filename == f"image-{job.pk}-1.png"
    with open(download.path(), "rb") as handle:
        assert handle.read() == job.images.get().file.read()


def test_it_shows_field_errors_without_queuing(page, alice, provider, upstream):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "a kite")
    page.fill("#id_size", "1000x1000")
    page.keyboard.press("Control+Enter")
    expect(page.locator('[data-error-for="size"]')).to_contain_text("multiples of 16")
    expect(page.locator("#id_prompt")).to_have_value("a kite")
    assert not Generation.objects.exists()


def test_it_offers_only_the_controls_a_model_takes(page, alice, provider):
    log_in(page, "alice", "alice-password-1")
    quality = page.locator("#id_quality option")
    expect(quality).to_have_count(4)  # gpt-image-2: low, medium, high, auto
    page.select_option("#id_model", "gpt-image-2.5-sunburst")
    expect(quality).to_have_count(6)  # adds xhigh and max
    expect(page.locator("#id_quality option[value=xhigh]")).to_have_count(1)
    expect(page.locator("[data-field=output_compression]")).to_be_hidden()
    page.select_option("#id_output_format", "jpeg")
    expect(page.locator("[data-field=output_compression]")).to_be_visible()
    expect(page.locator("#id_background option[value=transparent]")).to_be_disabled()


def test_it_cancels_a_running_job(page, alice, provider, upstream, worker):
    upstream.set_latency(8)
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "a slow picture")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "running", timeout=5_000)
    card.locator("text=Cancel").click()
    expect(card).to_have_attribute("data-state", "cancelled", timeout=5_000)
    assert Generation.objects.get().state == "cancelled"
