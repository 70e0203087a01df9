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
