"""Raw HTTP behaviour: content types, control endpoints, concurrency, the management command."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import openai

from playground.offline_api.server import OfflineImagesAPI

from .commands import stand_in_command
from .helpers import mask_bytes, png_bytes

AUTH = {"Authorization": "Bearer sk-test"}


def test_it_answers_healthz(api: OfflineImagesAPI) -> None:
    assert httpx2.get(f"{api.url}/healthz").json() == {"status": "ok"}


def test_it_rejects_wrong_content_types_and_bad_json(api: OfflineImagesAPI) -> None:
    url = f"{api.base_url}/images/generations"
    response = httpx2.post(url, content=b"prompt=x", headers={**AUTH, "Content-Type": "text/plain"})
    assert response.status_code == 400
    assert "Unsupported content type" in response.json()["error"]["message"]
    response = httpx2.post(
        url, content=b"{oops", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]
    response = httpx2.post(f"{api.base_url}/images/edits", json={"prompt": "p"}, headers=AUTH)
    assert response.status_code == 400


def test_it_answers_unknown_routes_with_404(api: OfflineImagesAPI) -> None:
    response = httpx2.post(f"{api.base_url}/images/variations", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/images/variations)"


def test_it_accepts_chunked_request_bodies(api: OfflineImagesAPI) -> None:
    parts = [b'{"model": "gpt-image-2", ', b'"prompt": "chunked"}']
    response = httpx2.post(
        f"{api.base_url}/images/generations",
        content=iter(parts),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["size"] == "1024x1024"


def test_it_logs_requests_without_bytes_or_keys(api: OfflineImagesAPI, client) -> None:
    client.images.edit(
        model="gpt-image-2",
        image=[("a.png", png_bytes((80, 60)), "image/png")],
        mask=("m.png", mask_bytes((80, 60), (0, 0, 10, 10)), "image/png"),
        prompt="log me",
        size="1536x864",
    )
    logged = httpx2.get(f"{api.url}/_control/requests").json()["requests"]
    assert len(logged) == 1
    entry = logged[0]
    assert entry["params"] == {"prompt": "log me", "model": "gpt-image-2", "size": "1536x864"}
    assert (entry["images"], entry["mask_size"], entry["status"]) == (1, [80, 60], 200)
    assert "Bearer" not in str(entry) and "sk-test" not in str(entry)
    assert httpx2.delete(f"{api.url}/_control/requests").json() == {"requests": []}
    assert api.requests == []


def test_it_controls_faults_and_latency_over_http(api: OfflineImagesAPI) -> None:
    settings = {"fail_next": "429,timeout:1", "latency": 0.25}
    state = httpx2.post(f"{api.url}/_control/faults", json=settings).json()
    assert state["fail_next"] == ["429", "timeout:1"] and state["latency"] == 0.25
    assert httpx2.get(f"{api.url}/_control/faults").json()["fail_next"] == ["429", "timeout:1"]
    bad = httpx2.post(f"{api.url}/_control/faults", json={"fail_next": ["418"]})
    assert bad.status_code == 400
    state = httpx2.post(f"{api.url}/_control/reset").json()
    assert state == {"fail_next": [], "latency": 0.0, "moderation_words": ["forbidden"]}


def test_it_answers_404_for_a_missing_mask(api: OfflineImagesAPI) -> None:
    assert httpx2.get(f"{api.url}/_control/last-mask").status_code == 404


def test_it_keeps_the_control_endpoints_off_unless_asked() -> None:
    api = OfflineImagesAPI(log=False).start()
    try:
        assert httpx2.get(f"{api.url}/_control/requests").status_code == 404
        assert httpx2.post(f"{api.url}/_control/faults", json={"latency": 9}).status_code == 404
        assert api.latency == 0.0
    finally:
        api.stop()


def test_it_serves_64_slow_requests_concurrently(
    api: OfflineImagesAPI, client, monkeypatch
) -> None:
    client.images.generate(model="gpt-image-2", prompt="together")  # renders once, then cached
    # Each request's latency lasts until all 64 are waiting at once: a server that held fewer
    # at a time would break the barrier (after its timeout) and the requests would fail.
    together = threading.Barrier(64, timeout=30)
    monkeypatch.setattr(api, "wait", lambda seconds: together.wait())

    def one(_: int) -> int:
        result = client.images.generate(model="gpt-image-2", prompt="together")
        return len(result.data or [])

    with ThreadPoolExecutor(max_workers=64) as pool:
        assert sum(pool.map(one, range(64))) == 64
    assert not together.broken


def test_it_runs_as_a_management_command() -> None:
    flags = ("--latency", "0", "--fail-next", "500", "--moderation-word", "kraken")
    with stand_in_command(*flags) as url:
        assert url.startswith("http://127.0.0.1:")
        client = openai.OpenAI(api_key="sk-test", base_url=f"{url}/v1", max_retries=0)
        try:
            client.images.generate(model="gpt-image-2", prompt="p")
            raise AssertionError("the --fail-next fault was not served")
        except openai.InternalServerError:
            pass
        try:
            client.images.generate(model="gpt-image-2", prompt="a kraken")
            raise AssertionError("the --moderation-word was not applied")
        except openai.BadRequestError as error:
            assert error.code == "moderation_blocked"
