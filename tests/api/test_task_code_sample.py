"""The "View code" task API snippet is a complete program against this server."""

import os
import subprocess
import sys

from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.code_samples import CodeRequest, snippets
from playground.generations.forms import GenerationForm
from tests.jobs import FORM_FIELDS


def test_the_task_python_snippet_creates_polls_and_saves_the_images(
    live_server, secret, worker, tmp_path
):
    form = GenerationForm({**FORM_FIELDS, "prompt": "a 'kite' $(x)", "n": "2", "quality": "low"})
    assert form.is_valid(), form.errors
    request = CodeRequest(form.upstream_params(is_edit=False))
    code = next(
        s.code
        for s in snippets(request, live_server.url)
        if (s.target, s.language) == ("tasks", "python")
    )
    (tmp_path / "snippet.py").write_text(code.replace("time.sleep(2)", "time.sleep(0.2)"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLAYGROUND_")}
    result = subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=tmp_path,
        env={**environment, "PLAYGROUND_API_KEY": secret},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    saved = sorted(tmp_path.glob("image-*.png"))
    assert [path.name for path in saved] == ["image-1.png", "image-2.png"]
    stored = list(Image.objects.order_by("index"))
    assert len(stored) == 2 and stored[0].generation.prompt == "a 'kite' $(x)"
    for path, image in zip(saved, stored, strict=True):
        with image.file.open("rb") as original:
            assert path.read_bytes() == original.read()  # the original bytes, untouched
        with PILImage.open(path) as picture:
            picture.verify()
