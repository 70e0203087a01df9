"""Only the provider client imports the openai SDK; keys stay encrypted and masked."""

import ast
from pathlib import Path

import pytest

from playground.providers.bootstrap import ensure_default_provider
from playground.providers.models import Provider

ROOT = Path(__file__).resolve().parent.parent.parent / "playground"


def imports_openai(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "openai" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "openai":
            return True
    return False


def test_it_keeps_the_sdk_behind_one_module():
    importers = sorted(
        str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py") if imports_openai(path)
    )
    assert importers == ["providers/client.py"]


@pytest.mark.django_db
def test_it_stores_the_key_encrypted_and_shows_it_masked():
    provider = Provider(name="OpenAI")
    provider.set_api_key("sk-proj-abcdefghijklmnop1234")
    provider.save()
    stored = Provider.objects.values_list("api_key_encrypted", flat=True).get()
    assert "abcdefghijklmnop" not in stored
    assert Provider.objects.get().api_key == "sk-proj-abcdefghijklmnop1234"
    assert provider.masked_key == "sk-...1234"


@pytest.mark.django_db
def test_it_falls_back_to_the_offline_stand_in_without_a_key(settings):
    settings.OPENAI_API_KEY = ""
    settings.OFFLINE_API_PORT = 9123
    provider = ensure_default_provider()
    assert provider.is_offline and provider.base_url == "http://127.0.0.1:9123/v1"
    assert Provider.objects.default() == provider


@pytest.mark.django_db
def test_it_makes_the_environment_key_the_default(settings):
    settings.OPENAI_API_KEY = ""
    ensure_default_provider()
    settings.OPENAI_API_KEY = "sk-live-0123456789abcdef"
    settings.OPENAI_BASE_URL = ""
    provider = ensure_default_provider()
    assert not provider.is_offline and provider.kind == "openai"
    assert Provider.objects.default() == provider
    assert Provider.objects.filter(is_default=True).count() == 1


@pytest.mark.django_db
def test_it_never_shows_the_key_in_the_admin(client, django_user_model):
    provider = Provider(name="OpenAI", kind="openai")
    provider.set_api_key("sk-proj-verysecretvalue9876")
    provider.save()
    admin = django_user_model.objects.create_superuser("root", "", "root-password-1")
    client.force_login(admin)
    for url in ("/admin/providers/provider/", f"/admin/providers/provider/{provider.pk}/change/"):
        page = client.get(url).content.decode()
        assert "verysecretvalue" not in page and provider.api_key_encrypted not in page
        assert "sk-...9876" in page


@pytest.mark.django_db
def test_it_keeps_the_stored_key_when_the_admin_leaves_the_field_empty(client, django_user_model):
    provider = Provider(name="OpenAI", kind="openai")
    provider.set_api_key("sk-proj-keepme-0000")
    provider.save()
    admin = django_user_model.objects.create_superuser("root", "", "root-password-1")
    client.force_login(admin)
    form = {
        "name": "OpenAI",
        "kind": "openai",
        "base_url": "",
        "new_api_key": "",
        "is_enabled": "on",
    }
    response = client.post(f"/admin/providers/provider/{provider.pk}/change/", form)
    assert response.status_code == 302
    assert Provider.objects.get().api_key == "sk-proj-keepme-0000"
    form["new_api_key"] = "sk-proj-rotated-1111"
    client.post(f"/admin/providers/provider/{provider.pk}/change/", form)
    assert Provider.objects.get().api_key == "sk-proj-rotated-1111"
