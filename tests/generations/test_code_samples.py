"""The "View code" snippets: right endpoint and parameters, safe quoting, and they really run."""

import ast
import base64
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from playground.generations.code_samples import OPENAI_BASE_URL, CodeRequest, Snippet, snippets
from playground.generations.forms import GenerationForm
from tests.jobs import FORM_FIELDS

ORIGIN = "https://playground.example:8443/"
PROVIDER_KEY = "sk-test-key-0123456789"  # the `provider` fixture's key
# A `curl` that prints its arguments, NUL-separated, instead of sending anything.
CURL_SPY = 'curl() { printf "%s\\0" "$@"; }\n'
LONG = ("a 'quote' $(touch pwned) `touch pwned` \"dq\" \\ ${HOME} \n\U0001f3a8 ;type=x " * 700)[
    :31_999
] + "!"
HOSTILE = [
    'it\'s a "quoted" prompt',
    "$(touch pwned) `touch pwned` ${HOME} $HOME !! !$",
    "'; touch pwned; echo '",
    "line one\nline two\r\n\ttabbed \\ backslash \\n not a newline",
    "unicode: \u2713 \u6f22\u5b57 \U0001f3a8 \u2028 \u00a0 \u00e9",
    "@/etc/passwd",
    "<reference-1.png",
    "a;type=text/html;filename=x.txt",
    "%s %n {} {{}} ' \" `",
    "JSON\nEOF\n'\n}",
    LONG,
]
HOSTILE_IDS = [f"hostile-{i}" for i in range(len(HOSTILE))]


def code_request(reference_count: int = 0, has_mask: bool = False, **changes: str) -> CodeRequest:
    form = GenerationForm({**FORM_FIELDS, **changes})
    assert form.is_valid(), form.errors
    return CodeRequest(form.upstream_params(reference_count > 0), reference_count, has_mask)


def by_kind(request: CodeRequest, origin: str = ORIGIN) -> dict[str, Snippet]:
    return {f"{s.target}-{s.language}": s for s in snippets(request, origin)}


def spy_curl(code: str, folder: Path) -> list[str]:
    """Run a curl snippet through bash with the spy; the arguments curl would have received."""
    script = folder / "snippet.sh"
    script.write_text(CURL_SPY + code, encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "PLAYGROUND_API_KEY": "pk-env", "OPENAI_API_KEY": "sk-env"}
    result = subprocess.run(
        ["bash", str(script)], cwd=folder, env=env, capture_output=True, timeout=30, check=True
    )
    assert not list(folder.glob("pwned*")), "the snippet ran a command from the prompt"
    return result.stdout.decode("utf-8").split("\0")[:-1]


def option_values(arguments: list[str], option: str) -> list[str]:
    return [arguments[i + 1] for i, value in enumerate(arguments) if value == option]


def form_strings(arguments: list[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in option_values(arguments, "--form-string"))


def python_call(code: str) -> tuple[str, dict[str, Any]]:
    """The images.generate/edit call of a Python snippet: method and literal keyword values."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("generate", "edit"):
            values = {}
            for keyword in node.keywords:
                try:
                    values[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    values[keyword.arg] = ast.unparse(keyword.value)
            return node.func.attr, values
    raise AssertionError("no images call in the snippet")


def png(folder: Path, name: str, mode: str = "RGB") -> None:
    image = Image.new(mode, (256, 256), (200, 120, 40, 255) if mode == "RGBA" else "orange")
    if mode == "RGBA":
        image.paste((0, 0, 0, 0), (64, 64, 192, 192))  # alpha 0: the area to edit
    image.save(folder / name, "PNG")


def run_python(code: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    (folder / "snippet.py").write_text(code, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PLAYGROUND_"))}
    return subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=folder,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_images(folder: Path, count: int, fmt: str = "png") -> None:
    files = sorted(folder.glob(f"image-*.{fmt}"))
    assert [f.name for f in files] == [f"image-{i}.{fmt}" for i in range(1, count + 1)]
    for file in files:
        with Image.open(file) as image:
            image.verify()
            assert image.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]


# ---------------------------------------------------------------- what the snippets say


@pytest.mark.django_db
def test_it_writes_a_generate_request_for_each_target_and_language(catalog):
    code = by_kind(code_request(prompt="a red kite", quality="low"))
    server_curl = code["server-curl"].code
    assert "curl https://playground.example:8443/v1/images/generations \\" in server_curl
    assert '-H "Authorization: Bearer $PLAYGROUND_API_KEY"' in server_curl
    assert "python manage.py create_api_key USERNAME" in server_curl
    assert '-H "Content-Type: application/json"' in server_curl
    openai_curl = code["openai-curl"].code
    assert f"curl {OPENAI_BASE_URL}/images/generations \\" in openai_curl
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in openai_curl
    server_python = code["server-python"].code
    assert (
        'client = OpenAI(base_url="https://playground.example:8443/v1", '
        'api_key=os.environ["PLAYGROUND_API_KEY"])'
    ) in server_python
    assert "client = OpenAI()\n" in code["openai-python"].code
    for snippet in code.values():
        assert "stream" not in snippet.code
    method, values = python_call(server_python)
    assert method == "generate"
    assert values == {
        "model": "gpt-image-2",
        "prompt": "a red kite",
        "n": 1,
        "size": "1024x1024",
        "quality": "low",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
    }


@pytest.mark.django_db
def test_it_sends_only_the_parameters_the_model_takes(catalog, tmp_path):
    # gpt-image-2 takes no input_fidelity; the edits endpoint no moderation.
    request = code_request(reference_count=1, input_fidelity="high", moderation="low")
    assert "input_fidelity" not in request.params and "moderation" not in request.params
    # gpt-image-1.5 takes input_fidelity, for edits only.
    edit = code_request(reference_count=1, model="gpt-image-1.5", input_fidelity="high")
    assert python_call(by_kind(edit)["openai-python"].code)[1]["input_fidelity"] == "high"
    generate = code_request(model="gpt-image-1.5", input_fidelity="high")
    assert "input_fidelity" not in by_kind(generate)["openai-python"].code
    # Compression only with a lossy format (the form refuses it with PNG).
    jpeg = code_request(output_format="jpeg", output_compression="70")
    body = json.loads(option_values(spy_curl(by_kind(jpeg)["openai-curl"].code, tmp_path), "-d")[0])
    assert body["output_compression"] == 70 and body["output_format"] == "jpeg"
    assert "output_compression" not in code_request().params
    assert 'with open(f"image-{number}.jpeg", "wb")' in by_kind(jpeg)["openai-python"].code


@pytest.mark.django_db
def test_it_writes_an_edit_with_its_references_and_mask(catalog, tmp_path):
    code = by_kind(code_request(reference_count=3, has_mask=True, prompt="add a hat"))
    arguments = spy_curl(code["server-curl"].code, tmp_path)
    assert arguments[0] == "https://playground.example:8443/v1/images/edits"
    assert option_values(arguments, "-H") == ["Authorization: Bearer pk-env"]
    assert option_values(arguments, "-F") == [
        "image[]=@reference-1.png",
        "image[]=@reference-2.png",
        "image[]=@reference-3.png",
        "mask=@mask.png",
    ]
    assert form_strings(arguments) == {
        "model": "gpt-image-2",
        "prompt": "add a hat",
        "n": "1",
        "size": "1024x1024",
        "quality": "high",
        "output_format": "png",
        "background": "auto",
    }
    method, values = python_call(code["openai-python"].code)
    assert method == "edit"
    files = ", ".join(f"open('reference-{i}.png', 'rb')" for i in (1, 2, 3))
    assert values["image"] == f"[{files}]"
    assert values["mask"] == "open('mask.png', 'rb')"
    assert "moderation" not in values


@pytest.mark.django_db
def test_it_leaves_the_mask_out_without_references_or_when_none_is_set(catalog, tmp_path):
    no_mask = by_kind(code_request(reference_count=1, has_mask=False))
    assert "mask" not in no_mask["server-curl"].code and "mask" not in no_mask["server-python"].code
    generate = by_kind(code_request(reference_count=0, has_mask=True))
    assert (
        "mask" not in generate["openai-curl"].code
        and "/images/generations" in generate["openai-curl"].code
    )


@pytest.mark.django_db
def test_it_streams_when_live_previews_are_on(catalog, tmp_path):
    code = by_kind(code_request(partial_images="2"))
    body = json.loads(option_values(spy_curl(code["server-curl"].code, tmp_path), "-d")[0])
    assert body["stream"] is True and body["partial_images"] == 2
    assert "--no-buffer" in code["server-curl"].code
    values = python_call(code["server-python"].code)[1]
    assert values["stream"] is True and values["partial_images"] == 2
    assert 'event.type == "image_generation.completed"' in code["server-python"].code
    edit = by_kind(code_request(reference_count=1, partial_images="1"))
    assert 'event.type == "image_edit.partial_image"' in edit["openai-python"].code
    assert form_strings(spy_curl(edit["openai-curl"].code, tmp_path))["stream"] == "true"


@pytest.mark.django_db
def test_it_never_shows_a_real_key(provider):
    for request in (code_request(), code_request(reference_count=2, has_mask=True)):
        code = by_kind(request)
        for snippet in code.values():
            assert PROVIDER_KEY not in snippet.code
            assert "sk-" not in snippet.code
        assert '"Authorization: Bearer $PLAYGROUND_API_KEY"' in code["server-curl"].code
        assert 'api_key=os.environ["PLAYGROUND_API_KEY"]' in code["server-python"].code
        assert '"Authorization: Bearer $OPENAI_API_KEY"' in code["openai-curl"].code
        assert "api_key" not in code["openai-python"].code


# ---------------------------------------------------------------- quoting


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", HOSTILE, ids=HOSTILE_IDS)
def test_it_quotes_any_prompt_for_the_shell(catalog, tmp_path, prompt):
    code = by_kind(code_request(prompt=prompt))
    for kind in ("server-curl", "openai-curl"):
        body = json.loads(option_values(spy_curl(code[kind].code, tmp_path), "-d")[0])
        assert body["prompt"] == prompt
    edit = by_kind(code_request(reference_count=1, has_mask=True, prompt=prompt))
    arguments = spy_curl(edit["server-curl"].code, tmp_path)
    assert form_strings(arguments)["prompt"] == prompt
    assert option_values(arguments, "-F") == ["image[]=@reference-1.png", "mask=@mask.png"]


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", HOSTILE, ids=HOSTILE_IDS)
def test_it_quotes_any_prompt_for_python(catalog, prompt):
    for request in (code_request(prompt=prompt), code_request(reference_count=2, prompt=prompt)):
        for kind in ("server-python", "openai-python"):
            assert python_call(by_kind(request)[kind].code)[1]["prompt"] == prompt


def test_it_quotes_the_origin_and_odd_formats():
    request = CodeRequest({"model": "m", "prompt": "p", "output_format": "png'; x"})
    code = by_kind(request, origin="http://host:8000/")
    assert 'open(f"image-{number}.img", "wb")' in code["server-python"].code
    assert ast.parse(code["server-python"].code)
    assert "http://host:8000/v1/images/generations" in code["server-curl"].code


# ---------------------------------------------------------------- the snippets run


@pytest.mark.django_db
def test_the_openai_python_snippet_makes_an_image(catalog, upstream, tmp_path):
    prompt = HOSTILE[4] + HOSTILE[1]
    code = by_kind(code_request(prompt=prompt, n="2", quality="low"))["openai-python"].code
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": "sk-test-run"}
    result = run_python(code, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert_images(tmp_path, 2)
    assert upstream.requests[-1]["params"]["prompt"] == prompt


@pytest.mark.django_db
def test_the_openai_python_snippet_streams_and_saves_the_final_images(catalog, upstream, tmp_path):
    request = code_request(partial_images="2", n="2", output_format="webp", quality="low")
    code = by_kind(request)["openai-python"].code
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": "sk-test-run"}
    result = run_python(code, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("received") == 4  # two previews for each of the two images
    assert_images(tmp_path, 2, "webp")
    assert upstream.requests[-1]["params"]["stream"] is True


@pytest.mark.django_db
def test_the_server_python_snippet_runs_against_an_openai_compatible_api(
    catalog, upstream, tmp_path
):
    # Pointed at the stand-in's origin, the "this server" snippet is a complete program too:
    # an edit with two references and a mask, streamed.
    png(tmp_path, "reference-1.png")
    png(tmp_path, "reference-2.png")
    png(tmp_path, "mask.png", "RGBA")
    request = code_request(reference_count=2, has_mask=True, partial_images="1", prompt=LONG)
    code = by_kind(request, origin=upstream.url)["server-python"].code
    result = run_python(code, tmp_path, {"PLAYGROUND_API_KEY": "pk-test-run"})
    assert result.returncode == 0, result.stderr
    assert_images(tmp_path, 1)
    received = upstream.requests[-1]
    assert received["path"] == "/v1/images/edits"
    assert received["images"] == 2 and received["mask_size"] == [256, 256]
    assert received["params"]["prompt"] == LONG


def real_curl(code: str, base_url: str, folder: Path) -> str:
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    script = folder / "snippet.sh"
    script.write_text(code.replace(OPENAI_BASE_URL, base_url), encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "OPENAI_API_KEY": "sk-test-run"}
    result = subprocess.run(
        ["bash", str(script)], cwd=folder, env=env, capture_output=True, timeout=60, check=True
    )
    return result.stdout.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", [HOSTILE[1], HOSTILE[3], LONG], ids=["shell", "lines", "long"])
def test_the_openai_curl_snippet_gets_an_image(catalog, upstream, tmp_path, prompt):
    code = by_kind(code_request(prompt=prompt, quality="low"))["openai-curl"].code
    answer = json.loads(real_curl(code, upstream.base_url, tmp_path))
    Image.open(io.BytesIO(base64.b64decode(answer["data"][0]["b64_json"]))).verify()
    assert upstream.requests[-1]["params"]["prompt"] == prompt


@pytest.mark.django_db
def test_the_openai_curl_snippet_sends_an_edit_with_its_files(catalog, upstream, tmp_path):
    png(tmp_path, "reference-1.png")
    png(tmp_path, "mask.png", "RGBA")
    prompt = HOSTILE[5] + " " + HOSTILE[7]  # what -F would have read as a file and a header
    request = code_request(reference_count=1, has_mask=True, prompt=prompt)
    answer = json.loads(
        real_curl(by_kind(request)["openai-curl"].code, upstream.base_url, tmp_path)
    )
    assert answer["data"][0]["b64_json"]
    received = upstream.requests[-1]
    assert received["params"]["prompt"] == prompt
    assert received["images"] == 1 and received["mask_size"] == [256, 256]


@pytest.mark.django_db
def test_the_openai_curl_snippet_streams_events(catalog, upstream, tmp_path):
    code = by_kind(code_request(partial_images="1", quality="low"))["openai-curl"].code
    events = real_curl(code, upstream.base_url, tmp_path)
    assert "event: image_generation.partial_image" in events
    assert "event: image_generation.completed" in events


# ---------------------------------------------------------------- the task API snippets


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", HOSTILE, ids=HOSTILE_IDS)
def test_the_task_curl_snippet_sends_the_settings_under_input(catalog, tmp_path, prompt):
    request = code_request(prompt=prompt, n="2", quality="low", partial_images="1")
    arguments = spy_curl(by_kind(request)["tasks-curl"].code, tmp_path)
    create_at = arguments.index(ORIGIN + "api/v1/jobs/createTask")
    body = json.loads(option_values(arguments[create_at:], "-d")[0])
    assert body["model"] == request.params["model"]
    assert body["input"]["prompt"] == prompt
    assert body["input"]["n"] == 2 and body["input"]["quality"] == "low"
    assert "partial_images" not in body["input"]  # a task does not stream
    assert "Authorization: Bearer pk-env" in option_values(arguments, "-H")
    assert ORIGIN + "api/v1/jobs/recordInfo" in arguments


@pytest.mark.django_db
def test_the_task_snippets_name_references_and_mask_as_urls(catalog, tmp_path):
    request = code_request(reference_count=2, has_mask=True)
    arguments = spy_curl(by_kind(request)["tasks-curl"].code, tmp_path)
    body = json.loads(option_values(arguments, "-d")[0])
    assert body["input"]["input_urls"] == ["REFERENCE_URL_1", "REFERENCE_URL_2"]
    assert body["input"]["mask_url"] == "MASK_URL"
    code = by_kind(request)["tasks-python"].code
    ast.parse(code)  # valid Python, whatever the prompt
    assert '"input_urls": [' in code and '"mask_url": "MASK_URL"' in code


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", HOSTILE, ids=HOSTILE_IDS)
def test_the_task_python_snippet_keeps_any_prompt_intact(catalog, prompt):
    code = by_kind(code_request(prompt=prompt))["tasks-python"].code
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "input" for k in node.keys
        ):
            body = ast.literal_eval(node)
            assert body["input"]["prompt"] == prompt
            return
    raise AssertionError("no createTask body in the snippet")
