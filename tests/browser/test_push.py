"""A running job's card follows it through the page's event stream, and polls only without one."""

import re
import time

import pytest
from playwright.sync_api import expect

from playground.generations.models import Generation
from playground.generations.push import job_event_hub
from tests.browser.conftest import log_in
from tests.workers import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARD_PATH = re.compile(r"/generations/\d+/(\?.*)?$")


def card_requests(page) -> list[float]:  # type: ignore[no-untyped-def]
    """Monotonic times of the page's requests for a job card (GET /generations/<id>/)."""
    seen: list[float] = []
    page.on(
        "request",
        lambda request: (
            seen.append(time.monotonic())
            if request.method == "GET" and CARD_PATH.search(request.url)
            else None
        ),
    )
    return seen


def test_a_card_is_told_of_progress_instead_of_polling(page, alice, provider, upstream, worker):
    upstream.set_latency(3.0)
    log_in(page, "alice", "alice-password-1")
    page.wait_for_function("() => document.documentElement.dataset.push === 'live'")
    requests = card_requests(page)

    page.fill("#id_prompt", "a harbour at night")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "running", timeout=5_000)

    # While the upstream works nothing changes, so the page asks for nothing.
    quiet_from = time.monotonic()
    page.wait_for_timeout(2_000)
    assert [t for t in requests if t > quiet_from + 0.2] == []

    expect(card).to_have_attribute("data-state", "succeeded", timeout=10_000)
    image = card.locator(".job-images a.thumb img").first
    expect(image).to_have_attribute("src", re.compile(r"/display/$"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    # One fetch per announced change (running, succeeded), not one a second.
    assert len(requests) <= 3, len(requests)


def test_previews_arrive_as_they_are_streamed(page, alice, provider, upstream, worker):
    upstream.set_latency(2.0)
    log_in(page, "alice", "alice-password-1")
    page.wait_for_function("() => document.documentElement.dataset.push === 'live'")
    page.fill("#id_prompt", "a fox in snow")
    page.select_option("#id_partial_images", "2")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card.locator(".thumb.preview img").first).to_be_visible(timeout=10_000)
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15_000)


def test_without_the_stream_the_card_polls_and_still_finishes(
    page, alice, provider, upstream, worker
):
    page.route("**/generations/events/", lambda route: route.abort())
    upstream.set_latency(1.5)
    log_in(page, "alice", "alice-password-1")
    requests = card_requests(page)
    page.fill("#id_prompt", "a lantern in fog")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15_000)
    assert page.evaluate("document.documentElement.dataset.push") != "live"
    assert len(requests) >= 2  # it polled


def test_a_cut_stream_falls_back_to_polling_and_comes_back(page, alice, provider, upstream, worker):
    """A stream cut (a proxy's timeout, a restart of the web server) loses no result."""
    upstream.set_latency(4.0)
    log_in(page, "alice", "alice-password-1")
    page.wait_for_function("() => document.documentElement.dataset.push === 'live'")
    page.fill("#id_prompt", "a lighthouse in rain")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "running", timeout=5_000)

    # The server ends every stream (as when its listener drops) and refuses new ones for now.
    page.route("**/generations/events/", lambda route: route.abort())
    hub = job_event_hub()
    hub.loop.call_soon_threadsafe(hub._end_all_streams)
    page.wait_for_function("() => document.documentElement.dataset.push !== 'live'")
    requests = card_requests(page)
    page.wait_for_timeout(2_500)
    assert len(requests) >= 2  # polling while the stream is down

    page.unroute("**/generations/events/")
    page.wait_for_function("() => document.documentElement.dataset.push === 'live'", timeout=10_000)
    expect(card).to_have_attribute("data-state", "succeeded", timeout=10_000)


HIDE_JS = """(hidden) => {
  Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
  Object.defineProperty(document, "visibilityState",
    {value: hidden ? "hidden" : "visible", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_hidden_tabs_let_go_of_their_stream_and_catch_up_when_shown(
    browser, live_server, alice, provider, upstream, worker
):
    """Over HTTP/1.1 a browser keeps about six connections to a server: open streams must not
    use them all, or the seventh tab (and any other page) never loads."""
    upstream.set_latency(1.0)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    hub = job_event_hub()
    try:
        first = context.new_page()
        log_in(first, "alice", "alice-password-1")
        tabs = [first] + [context.new_page() for _ in range(6)]
        for tab in tabs:
            if tab is not first:
                tab.goto("/")
            tab.wait_for_function("() => document.documentElement.dataset.push === 'live'")
            tab.evaluate(HIDE_JS, True)  # the person switched to another tab
        assert wait_for(lambda: not hub.subscribers.get(alice.pk), timeout=5), hub.subscribers

        seventh = context.new_page()
        seventh.goto("/")
        seventh.wait_for_function("() => document.documentElement.dataset.push === 'live'")
        seventh.fill("#id_prompt", "a paper boat")
        seventh.click("#generate-form button[type=submit]")
        expect(seventh.locator("#results article.job").first).to_have_attribute(
            "data-state", "succeeded"
        )
        seventh.goto("/gallery/")
        expect(seventh.locator(".gallery-item")).to_have_count(1)

        # A hidden tab neither streams nor polls; shown again, it reconnects and catches up.
        upstream.set_latency(2.0)
        first.reload()
        first.wait_for_function("() => document.documentElement.dataset.push === 'live'")
        first.fill("#id_prompt", "a kite over dunes")
        first.click("#generate-form button[type=submit]")
        card = first.locator("#results article.job").first
        expect(card).to_have_attribute("data-state", "running")
        first.evaluate(HIDE_JS, True)
        requests = card_requests(first)
        job = Generation.objects.get(prompt="a kite over dunes")
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded")
        first.wait_for_timeout(1_200)
        assert requests == []
        expect(card).to_have_attribute("data-state", "running")  # not told while hidden
        first.evaluate(HIDE_JS, False)
        expect(card).to_have_attribute("data-state", "succeeded", timeout=5_000)
        assert first.evaluate("document.documentElement.dataset.push") == "live"
    finally:
        context.close()
