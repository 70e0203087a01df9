"""The Images API request for the playground's current settings, as code to copy.

Four variants: curl and Python (the `openai` SDK), each against this server's OpenAI-compatible
endpoint or against OpenAI directly. Keys are always environment-variable placeholders. Every
value is quoted for its language (shlex for the shell, repr for Python), so any prompt survives
a paste.
"""

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

OPENAI_BASE_URL = "https://api.openai.com/v1"
SERVER_KEY_VARIABLE = "PLAYGROUND_API_KEY"
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"
MASK_FILE = "mask.png"
KEY_HINT = f"# {SERVER_KEY_VARIABLE}: make one with: python manage.py create_api_key USERNAME"
OPENAI_CLIENT = "\n".join(
    [
        "# Reads OPENAI_API_KEY (and OPENAI_BASE_URL, if set) from the environment.",
        "client = OpenAI()",
    ]
)


@dataclass(frozen=True)
class CodeRequest:
    """The upstream parameters (GenerationForm.upstream_params) and the edit's files, by count."""

    params: dict[str, Any]
    reference_count: int = 0
    has_mask: bool = False

    @property
    def is_edit(self) -> bool:
        return self.reference_count > 0

    @property
    def uses_mask(self) -> bool:
        return self.is_edit and self.has_mask

    @property
    def streams(self) -> bool:
        return bool(self.params.get("partial_images"))

    @property
    def path(self) -> str:
        return "/images/edits" if self.is_edit else "/images/generations"

    @property
    def event_prefix(self) -> str:
        return "image_edit" if self.is_edit else "image_generation"

    @property
    def extension(self) -> str:
        # Formats are admin-edited catalog data: only a plain word becomes part of a file name.
        fmt = str(self.params.get("output_format") or "png")
        return fmt if re.fullmatch(r"[a-z0-9]{1,8}", fmt) else "img"

    def reference_files(self) -> list[str]:
        return [f"reference-{i}.png" for i in range(1, self.reference_count + 1)]

    def body(self) -> dict[str, Any]:
        """The request's fields in the form's order; `stream` joins `partial_images`."""
        body: dict[str, Any] = {}
        for name, value in self.params.items():
            if name == "partial_images":
                body["stream"] = True
            body[name] = value
        return body


@dataclass(frozen=True)
class Snippet:
    target: str  # "server" or "openai"
    language: str  # "curl" or "python"
    label: str
    code: str


def snippets(request: CodeRequest, origin: str) -> list[Snippet]:
    """All four variants; `origin` is this server's scheme://host, as the browser reached it."""
    server_url = origin.rstrip("/") + "/v1"
    server_client = (
        f"client = OpenAI(base_url={py_literal(server_url)}, "
        f'api_key=os.environ["{SERVER_KEY_VARIABLE}"])'
    )
    server_curl = curl(request, server_url, SERVER_KEY_VARIABLE, KEY_HINT)
    server_python = python(request, server_client, ("base64", "os"), KEY_HINT)
    openai_curl = curl(request, OPENAI_BASE_URL, OPENAI_KEY_VARIABLE)
    openai_python = python(request, OPENAI_CLIENT, ("base64",))
    tasks_url = origin.rstrip("/") + "/api/v1/jobs"
    return [
        Snippet("server", "curl", "curl · this server", server_curl),
        Snippet("server", "python", "Python · this server", server_python),
        Snippet("tasks", "curl", "curl · task API", task_curl(request, tasks_url)),
        Snippet("tasks", "python", "Python · task API", task_python(request, tasks_url)),
        Snippet("openai", "curl", "curl · OpenAI", openai_curl),
        Snippet("openai", "python", "Python · OpenAI", openai_python),
    ]


# ---------------------------------------------------------------- curl


def curl(request: CodeRequest, base_url: str, key_variable: str, hint: str = "") -> str:
    lines = [hint] if hint else []
    lines.append(_curl_response_note(request))
    words = [
        f"curl {shlex.quote(base_url + request.path)}",
        f'-H "Authorization: Bearer ${key_variable}"',
    ]
    if not request.is_edit:
        words.append('-H "Content-Type: application/json"')
    if request.streams:
        words.append("--no-buffer")  # print each event as it arrives
    words += _curl_multipart(request) if request.is_edit else _curl_json(request)
    lines.append(" \\\n  ".join(words))
    return "\n".join(lines) + "\n"


def _curl_response_note(request: CodeRequest) -> str:
    if request.streams:
        prefix = request.event_prefix
        return (
            "# The answer is a stream of server-sent events, each with a base64 b64_json:\n"
            f"# {prefix}.partial_image previews, then {prefix}.completed."
        )
    return "# The answer is JSON: data[i].b64_json is each image, base64-encoded."


def _curl_json(request: CodeRequest) -> list[str]:
    body = json.dumps(request.body(), indent=2, ensure_ascii=False)
    return [f"-d {shlex.quote(body)}"]


def _curl_multipart(request: CodeRequest) -> list[str]:
    words = [f'-F "image[]=@{name}"' for name in request.reference_files()]
    if request.uses_mask:
        words.append(f'-F "mask=@{MASK_FILE}"')
    # --form-string sends a value as it is; with -F a prompt starting with @ or < would name
    # a file to upload, and ";type=" inside it would be read as a part header.
    words += [
        f"--form-string {shlex.quote(f'{name}={_form_value(value)}')}"
        for name, value in request.body().items()
    ]
    return words


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- Python


def py_literal(value: Any) -> str:
    """A Python literal for a str, int or bool; strings in double quotes when that is simple."""
    literal = repr(value)
    if isinstance(value, str) and literal.startswith("'") and not {'"', "'"} & set(value):
        literal = f'"{literal[1:-1]}"'
    return literal


def python(
    request: CodeRequest, client_lines: str, imports: tuple[str, ...], hint: str = ""
) -> str:
    head = [*(f"import {name}" for name in imports), "", "from openai import OpenAI", ""]
    if hint:
        head.append(hint)
    head += [client_lines, ""]
    call = _python_call(request)
    save = _python_stream_loop(request) if request.streams else _python_save(request)
    return "\n".join([*head, *call, *save]) + "\n"


def _python_call(request: CodeRequest) -> list[str]:
    result = "stream" if request.streams else "result"
    method = "edit" if request.is_edit else "generate"
    arguments: list[str] = []
    for name, value in request.body().items():
        arguments.append(f"    {name}={py_literal(value)},")
        if name == "prompt" and request.is_edit:
            arguments += _python_files(request)
    return [f"{result} = client.images.{method}(", *arguments, ")"]


def _python_files(request: CodeRequest) -> list[str]:
    opened = [f'        open("{name}", "rb"),' for name in request.reference_files()]
    lines = ["    image=[", *opened, "    ],"]
    if request.uses_mask:
        lines.append(f'    mask=open("{MASK_FILE}", "rb"),')
    return lines


def _python_save(request: CodeRequest) -> list[str]:
    return [
        "for number, image in enumerate(result.data, start=1):",
        f'    with open(f"image-{{number}}.{request.extension}", "wb") as file:',
        "        file.write(base64.b64decode(image.b64_json))",
    ]


def _python_stream_loop(request: CodeRequest) -> list[str]:
    prefix = request.event_prefix
    return [
        "number = 0",
        "for event in stream:",
        f'    if event.type == "{prefix}.partial_image":',
        '        print(f"preview {event.partial_image_index + 1} received")',
        f'    elif event.type == "{prefix}.completed":',
        "        number += 1",
        f'        with open(f"image-{{number}}.{request.extension}", "wb") as file:',
        "            file.write(base64.b64decode(event.b64_json))",
    ]


# ---------------------------------------------------------------- the task API


TASK_REFERENCES_NOTE = (
    "# input_urls and mask_url: URLs of images in this playground (a task's result URL or a\n"
    "# gallery image's address) or data: URLs; other hosts only if an admin allowed them."
)


def task_body(request: CodeRequest) -> dict[str, Any]:
    """createTask's body: the model, and the other parameters under `input` (the task API
    does not stream, so `partial_images` is left out)."""
    params = dict(request.params)
    body: dict[str, Any] = {"model": params.pop("model", "")}
    task_input = {name: value for name, value in params.items() if name != "partial_images"}
    if request.is_edit:
        task_input["input_urls"] = [
            f"REFERENCE_URL_{number}" for number in range(1, request.reference_count + 1)
        ]
        if request.uses_mask:
            task_input["mask_url"] = "MASK_URL"
    body["input"] = task_input
    return body


def task_curl(request: CodeRequest, tasks_url: str) -> str:
    lines = [KEY_HINT]
    if request.is_edit:
        lines.append(TASK_REFERENCES_NOTE)
    lines.append('# Add "callBackUrl" to have the result POSTed to you when the task ends.')
    body = json.dumps(task_body(request), indent=2, ensure_ascii=False)
    create = [
        f"curl {shlex.quote(tasks_url + '/createTask')}",
        f'-H "Authorization: Bearer ${SERVER_KEY_VARIABLE}"',
        '-H "Content-Type: application/json"',
        f"-d {shlex.quote(body)}",
    ]
    lines.append(" \\\n  ".join(create))
    lines.append("")
    lines.append("# Then ask for its state with the taskId it answered, until success or fail:")
    poll = [
        f"curl -G {shlex.quote(tasks_url + '/recordInfo')}",
        f'-H "Authorization: Bearer ${SERVER_KEY_VARIABLE}"',
        '--data-urlencode "taskId=$TASK_ID"',
    ]
    lines.append(" \\\n  ".join(poll))
    return "\n".join(lines) + "\n"


def _py_dict(value: Any, depth: int = 0) -> str:
    """A Python literal of a JSON-like value, one entry per line."""
    pad = "    " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{py_literal(k)}: {_py_dict(v, depth + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + "    " * depth + "}"
    if isinstance(value, list):
        items = [f"{pad}{_py_dict(v, depth + 1)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + "    " * depth + "]"
    return py_literal(value)


def task_python(request: CodeRequest, tasks_url: str) -> str:
    """createTask, then recordInfo every few seconds, then the result files (standard library
    only)."""
    lines = [
        "import json",
        "import os",
        "import time",
        "import urllib.parse",
        "import urllib.request",
        "",
        KEY_HINT,
        f"API = {py_literal(tasks_url)}",
        f'HEADERS = {{"Authorization": "Bearer " + os.environ["{SERVER_KEY_VARIABLE}"]}}',
        "",
        "",
        "def call(path, body=None):",
        "    data = None if body is None else json.dumps(body).encode()",
        '    headers = {**HEADERS, "Content-Type": "application/json"} if data else HEADERS',
        "    request = urllib.request.Request(API + path, data=data, headers=headers)",
        "    with urllib.request.urlopen(request, timeout=60) as response:",
        '        return json.load(response)["data"]',
        "",
        "",
    ]
    if request.is_edit:
        lines.append(TASK_REFERENCES_NOTE)
    lines.append('# Add "callBackUrl" to have the result POSTed to you when the task ends.')
    lines.append(f'task_id = call("/createTask", {_py_dict(task_body(request))})["taskId"]')
    lines += [
        "while True:",
        '    record = call("/recordInfo?" + urllib.parse.urlencode({"taskId": task_id}))',
        '    if record["state"] in ("success", "fail"):',
        "        break",
        "    time.sleep(2)",
        'if record["state"] == "fail":',
        '    raise SystemExit(record["failCode"] + ": " + record["failMsg"])',
        'urls = json.loads(record["resultJson"])["resultUrls"]',
        "for number, url in enumerate(urls, start=1):",
        f'    urllib.request.urlretrieve(url, f"image-{{number}}.{request.extension}")',
    ]
    return "\n".join(lines) + "\n"
