"""Transfer size of the first page a signed-in person sees, GET / (`make bench`).

In a temporary DATA_DIR (./var is never touched) with the production settings (DEBUG off,
whitenoise's compressed manifest storage after `collectstatic`), Django's test client asks for
the playground page with `Accept-Encoding: gzip, br`, then for every stylesheet and script the
page names and for the htmx request the page sends on load (the pricing panel), each as a
browser would, following the static `import` statements of module scripts (not the dynamic
`import()` of what loads later). Sizes are the bytes of the bodies as sent (compressed where
the server compresses); headers are left out. Scripts the page loads only later (the mask row
with the first reference, the editor on the first "Paint a mask", the examples on the first
click) are listed apart and do not count.

It prints a table and the total, and exits 1 when the total misses the target, 2 when the run
itself fails.
"""

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

from bench_jobs import BenchError, exit_status

ROOT = Path(__file__).resolve().parent.parent
TARGET_KB = 45.0
ACCEPT_ENCODING = "gzip, br"
# Inherited variables that would point the run outside its temporary DATA_DIR.
ISOLATING_VARIABLES = ("DATABASE_URL", "STATIC_ROOT", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEBUG")


# `import x from "./y.js";`, `import { a } from "./y.js";` and `import "./y.js";`, not import().
STATIC_IMPORT = re.compile(r"""^\s*import\s*(?:[^"'();]*?\s+from\s+)?["']([^"']+)["']""", re.M)


@dataclass
class Resource:
    kind: str
    url: str
    raw: int  # bytes of the resource itself
    sent: int  # bytes of the body on the wire
    encoding: str


class PageParser(HTMLParser):
    """Stylesheets, scripts, lazily loaded scripts and load-triggered htmx GETs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.lazy: list[str] = []
        self.on_load: list[str] = []
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "link" and a.get("rel") == "stylesheet":
            self.styles.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        for name, value in a.items():
            if name.startswith("data-") and name.endswith("-src") and value.endswith(".js"):
                self.lazy.append(value)
        trigger = a.get("hx-trigger", "")
        if a.get("hx-get") and trigger.split(",")[0].strip() == "load":
            self.on_load.append(a["hx-get"])
        # The form's values, as the load request's hx-include sends them.
        if tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "input" and a.get("name") and a.get("type", "text") not in ("file", "hidden"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def body_size(response) -> int:  # type: ignore[no-untyped-def]
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def fetch(client, kind: str, url: str, **extra: str) -> Resource:  # type: ignore[no-untyped-def]
    headers = {"Accept-Encoding": ACCEPT_ENCODING, **extra}
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    sent = body_size(response)
    plain = client.get(url, headers=extra)
    return Resource(kind, url, body_size(plain), sent, response.get("Content-Encoding", "-"))


def with_imports(client, urls: list[str]) -> list[Resource]:  # type: ignore[no-untyped-def]
    """The scripts and, once each, every module they import statically, depth first."""
    seen: set[str] = set()
    found: list[Resource] = []

    def visit(url: str) -> None:
        if url in seen:
            return
        seen.add(url)
        found.append(fetch(client, "js", url))
        source = client.get(url).getvalue().decode()
        for target in STATIC_IMPORT.findall(source):
            visit(urljoin(url, target))

    for url in urls:
        visit(url)
    return found


def setup(data_dir: Path) -> None:
    for name in ISOLATING_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY="bench",
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="playground.settings",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def measure() -> tuple[list[Resource], list[Resource]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from playground.providers.bootstrap import ensure_default_provider

    ensure_default_provider()
    user = get_user_model().objects.create_user("weight", password="weight-password-1")
    client = Client()
    client.force_login(user)

    page = fetch(client, "page", "/")
    html = client.get("/").content.decode()
    parser = PageParser()
    parser.feed(html)
    counted = [page]
    counted += [fetch(client, "css", url) for url in parser.styles]
    counted += with_imports(client, parser.scripts)
    query = urlencode(parser.fields)
    for url in parser.on_load:
        counted.append(fetch(client, "htmx", f"{url}?{query}", **{"HX-Request": "true"}))
    later = [r for r in with_imports(client, parser.lazy) if r.url not in {c.url for c in counted}]
    return counted, later


def table(resources: list[Resource]) -> None:
    for r in resources:
        url = r.url if len(r.url) <= 48 else r.url[:47] + "\u2026"
        print(
            f"  {r.kind:<5} {url:<48} {r.raw / 1024:7.1f} KB -> {r.sent / 1024:6.1f} KB"
            f"  ({r.encoding})"
        )


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="playground-weight-") as folder:
        setup(Path(folder))
        counted, later = measure()
    raw = sum(r.raw for r in counted) / 1024
    sent = sum(r.sent for r in counted) / 1024
    passed = sent < TARGET_KB
    print(f"first page GET / (signed in), Accept-Encoding: {ACCEPT_ENCODING}")
    table(counted)
    if later:
        print("  loaded later, when first needed (not counted):")
        table(later)
    print(
        f"page weight: {sent:.1f} KB transferred ({raw:.1f} KB uncompressed) in "
        f"{len(counted)} responses; target < {TARGET_KB:.0f} KB [{'ok' if passed else 'MISSED'}]"
    )
    return passed


if __name__ == "__main__":
    sys.exit(exit_status(run))
