"""The operational contracts: /healthz, and the start-up chores of `make run`."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_it_answers_healthz_with_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_creates_the_admin_once_and_prints_the_login(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.OPENAI_API_KEY = ""
    out = io.StringIO()
    call_command("prepare_playground", stdout=out)
    text = out.getvalue()
    password = (tmp_path / "admin-credentials.txt").read_text().split("password: ")[1].strip()
    assert f"Log in as admin / {password}" in text
    assert text.strip().splitlines()[-1] == "offline"
    assert get_user_model().objects.get(username="admin").check_password(password)

    again = io.StringIO()
    call_command("prepare_playground", stdout=again)
    assert "Log in as" not in again.getvalue()
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_it_answers_503_when_the_database_cannot_answer(logged_in, monkeypatch):
    from django.db import OperationalError

    from playground.gallery import views

    def unavailable(*args, **kwargs):
        raise OperationalError("sorry, too many clients already")

    monkeypatch.setattr(views, "keyset_page", unavailable)
    client = logged_in
    client.raise_request_exception = False
    response = client.get("/gallery/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "too many clients" not in response.content.decode()  # no internals shown


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?month=2026-1%00", "?%00=1", "?a=1&a=%00"])
def test_it_refuses_nul_bytes_with_400_naming_the_field(logged_in, query):
    response = logged_in.get(f"/usage/{query}")
    assert response.status_code == 400
    assert "NUL byte" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_a_nul_byte_in_a_posted_form(logged_in):
    response = logged_in.post("/generations/", {"model": "gpt-image-2\x00", "prompt": "x"})
    assert response.status_code == 400 and "'model'" in response.content.decode()
