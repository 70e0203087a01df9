"""The Content-Security-Policy sent with pages, and templates that need nothing it forbids."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# What a strict policy blocks: inline scripts, handlers and styles, and evaluated htmx values.
FORBIDDEN_IN_TEMPLATES = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=\s*[\"']", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "evaluated htmx value": re.compile(r"js:|javascript:|hx-on", re.IGNORECASE),
    "htmx trigger condition": re.compile(r"hx-trigger=\"[^\"]*\[", re.IGNORECASE),
}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_pages_get_a_strict_policy(logged_in):  # type: ignore[no-untyped-def]
    for path in ("/", "/gallery/", "/usage/", "/accounts/login/"):
        policy = directives(logged_in.get(path)["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        every_value = " ".join(value for values in policy.values() for value in values)
        assert "unsafe" not in every_value, path


def test_only_the_playground_shows_images_made_in_the_browser(logged_in):  # type: ignore[no-untyped-def]
    playground = directives(logged_in.get("/")["Content-Security-Policy"])
    assert sorted(playground["img-src"]) == ["'self'", "blob:", "data:"]
    gallery = directives(logged_in.get("/gallery/")["Content-Security-Policy"])
    assert gallery["img-src"] == ["'self'"]


def test_a_refused_form_keeps_the_playground_policy(logged_in):  # type: ignore[no-untyped-def]
    response = logged_in.post("/generations/", {"prompt": ""})
    assert response.status_code == 422
    assert "blob:" in directives(response["Content-Security-Policy"])["img-src"]


def test_templates_need_nothing_the_policy_forbids() -> None:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for what, pattern in FORBIDDEN_IN_TEMPLATES.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_an_image_opened_on_its_own_may_be_styled_by_the_browser_but_run_no_script(
    logged_in, alice
):  # type: ignore[no-untyped-def]
    from tests.sharing.conftest import make_image

    image = make_image(alice)
    response = logged_in.get(f"/gallery/{image.pk}/original/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]
    assert "unsafe" not in " ".join(policy["script-src"] + policy["default-src"])
