"""The official `openai` npm package (installed by `make install`) against the ASGI live server,
with a real worker running the jobs on the stand-in upstream: node runs openai-node.test.mjs
and this test fails with node's report when any of its tests fails."""

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from playground.generations.models import Generation
from tests.api.conftest import MODEL

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
NODE_TESTS = Path(__file__).with_name("openai-node.test.mjs")
BLOCKED_WORD = "forbidden"
NODE_TIMEOUT_SECONDS = 240


def unavailable(reason: str) -> None:
    """Skips here; on CI the SDK must run, so it fails instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: required on CI")
    pytest.skip(reason)


def node_with_the_sdk() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (apt-get install nodejs)")
    if not (ROOT / "node_modules" / "openai" / "package.json").is_file():
        unavailable("the openai npm package is not installed (make install, with npm)")
    return node


def test_the_official_node_sdk_gets_openais_answers_and_errors(
    live_server, secret, worker, upstream
):
    node = node_with_the_sdk()
    upstream.set_moderation_words([BLOCKED_WORD])
    env = {
        **os.environ,
        "PLAYGROUND_URL": live_server.url,
        "PLAYGROUND_API_KEY": secret,
        "PLAYGROUND_MODEL": MODEL,
        "PLAYGROUND_BLOCKED_PROMPT": f"a {BLOCKED_WORD} thing",
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(NODE_TESTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
    )
    if run.returncode != 0:
        pytest.fail(f"node --test failed:\n{run.stdout}\n{run.stderr}", pytrace=False)

    # What node cannot see: the edit reached the upstream with both images and the mask intact,
    # the two prompts refused by moderation are failed jobs, and the requests refused before
    # reaching the upstream (bad size, unknown parameter, bad key, unknown path) left no job.
    (edit,) = [sent for sent in upstream.requests if sent["path"].endswith("/images/edits")]
    assert edit["image_sizes"] == [[640, 480], [300, 300]]
    assert edit["mask_size"] == [640, 480]
    states = Counter(Generation.objects.values_list("state", flat=True))
    assert states == {"succeeded": 3, "failed": 2}, states
