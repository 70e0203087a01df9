"""Requests waiting for their jobs hold no thread of the web server each."""

import asyncio
import threading
import time

import httpx2

from tests.api.conftest import MODEL

WAITING = 24


def test_waiting_requests_share_a_few_threads(live_server, secret, provider, settings):
    # No worker runs: every job stays queued, and every request waits until its bound.
    settings.API_WAIT_SECONDS = 4
    settings.API_RATE_LIMIT_PER_KEY = ""
    settings.API_RATE_LIMIT_PER_USER = ""
    threads_before = threading.active_count()
    peak = threads_before
    answers: list[httpx2.Response] = []

    async def burst() -> None:
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx2.AsyncClient(base_url=live_server.url, timeout=30) as client:
            requests = [
                client.post(
                    "/v1/images/generations",
                    json={"model": MODEL, "prompt": f"kite {i}", "quality": "low"},
                    headers=headers,
                )
                for i in range(WAITING)
            ]
            answers.extend(await asyncio.gather(*requests))

    client_thread = threading.Thread(target=lambda: asyncio.run(burst()))
    started = time.monotonic()
    client_thread.start()
    while client_thread.is_alive():
        peak = max(peak, threading.active_count())
        time.sleep(0.05)
    assert [answer.status_code for answer in answers] == [504] * WAITING
    # They waited side by side, not a few at a time on the shared threads.
    assert time.monotonic() - started < settings.API_WAIT_SECONDS + 4
    # The client's own thread, the shared wait threads and a few of the server's own: far
    # fewer than one per waiting request (which is what a sync middleware would cost).
    assert peak - threads_before <= 1 + settings.WEB_WAIT_THREADS + 4, peak - threads_before
