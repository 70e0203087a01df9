"""Every page under the Content-Security-Policy in Chromium: no violation on any of them, and
the check that would report one does."""

import pytest
from django.contrib.admin import site as admin_site
from django.urls import reverse

from playground.sharing.services import create_share
from tests.browser.conftest import csp_violations, log_in
from tests.sharing.conftest import make_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(django_user_model, catalog, provider):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser("root", password="root-password-1")


def visit(page, path: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def test_the_users_pages_keep_to_the_policy(page, admin_user):  # type: ignore[no-untyped-def]
    image = make_image(admin_user)
    share = create_share(admin_user, [image], expires_at=None, show_details=True)
    log_in(page, "root", "root-password-1")
    for path in (
        "/",
        reverse("gallery"),
        reverse("image-detail", args=[image.pk]),
        reverse("usage"),
        reverse("shares"),
        reverse("api-keys"),
        f"/s/{share.token}/",
    ):
        visit(page, path)
    # The pricing panel's values come from a listener now, not from evaluated attributes.
    page.goto("/")
    with page.expect_response(lambda r: "/pricing/estimate/" in r.url and "prompt_chars=" in r.url):
        page.fill("#generate-form [name=prompt]", "a lighthouse in fog")
    assert not csp_violations


def test_the_admin_keeps_to_the_policy(page, admin_user):  # type: ignore[no-untyped-def]
    log_in(page, "root", "root-password-1")
    visit(page, reverse("admin:index"))
    for model in admin_site._registry:
        meta = model._meta
        visit(page, reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    visit(page, reverse("admin:providers_provider_add"))
    visit(page, reverse("admin:auth_user_change", args=[admin_user.pk]))
    assert not csp_violations


def test_a_violation_is_reported(page, live_server):  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.title = 'inline'";
            document.head.append(script);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.title() != "inline"
    assert any("Content Security Policy" in line for line in csp_violations)
    csp_violations.clear()  # seen and expected: the fixture checks for others
