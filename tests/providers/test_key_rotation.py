"""Keys survive a SECRET_KEY rotation through SECRET_KEY_FALLBACKS; unreadable keys are loud."""

import io

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from playground.audit.models import AuditEvent
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.providers import secrets
from playground.providers.bootstrap import ensure_default_provider
from playground.providers.errors import Outcome
from playground.providers.models import Provider

OLD = "old-secret-key-" + "x" * 40
NEW = "new-secret-key-" + "y" * 40
PLAIN = "sk-proj-rotation-secret-0123456789"


def stored_with(secret: str, name: str = "OpenAI", **fields: object) -> Provider:
    with override_settings(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=[]):
        provider = Provider(name=name, **fields)
        provider.set_api_key(PLAIN)
        provider.save()
    return provider


@pytest.mark.django_db
def test_it_reads_a_key_through_the_fallback_and_rotates_it():
    provider = stored_with(OLD)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert Provider.objects.get(pk=provider.pk).api_key == PLAIN
        out = io.StringIO()
        call_command("rotate_provider_keys", stdout=out, stderr=io.StringIO())
        assert "Re-encrypted 1 provider key." in out.getvalue()
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        assert Provider.objects.get(pk=provider.pk).api_key == PLAIN
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROTATED)
    assert event.actor is None and PLAIN not in str(event.details)


@pytest.mark.django_db
def test_it_raises_instead_of_emptying_an_unreadable_key():
    provider = stored_with(OLD)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        fresh = Provider.objects.get(pk=provider.pk)
        with pytest.raises(secrets.KeyUnreadable):
            fresh.api_key  # noqa: B018
        assert fresh.key_unreadable and fresh.api_key_encrypted == provider.api_key_encrypted
        assert "cannot be decrypted" in fresh.masked_key
        out, err = io.StringIO(), io.StringIO()
        call_command("rotate_provider_keys", stdout=out, stderr=err)
        assert "Re-encrypted 0 provider keys." in out.getvalue()
        assert "'OpenAI' cannot be decrypted" in err.getvalue()
    # Still stored as it was: readable again with the old secret.
    with override_settings(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        assert Provider.objects.get(pk=provider.pk).api_key == PLAIN


@pytest.mark.django_db
def test_it_reports_an_unreadable_key_in_healthz(client):
    stored_with(OLD)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "providers": "key cannot be decrypted: OpenAI",
    }
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert client.get("/healthz").json() == {"status": "ok"}  # readable with the fallback


@pytest.mark.django_db
def test_it_shows_a_banner_in_the_provider_admin(admin_client, admin_user):
    stored_with(OLD)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        admin_client.force_login(admin_user)  # the old session is signed with OLD
        response = admin_client.get("/admin/providers/provider/")
    assert response.status_code == 200, response
    page = response.content.decode()
    assert "The key of provider OpenAI cannot be decrypted: enter it again." in page


@pytest.mark.django_db
def test_it_fails_a_job_clearly_rather_than_falling_back(catalog, alice, upstream, settings):
    settings.OPENAI_API_KEY = ""
    provider = stored_with(
        OLD, kind=Provider.Kind.COMPATIBLE, base_url=upstream.base_url, is_default=True
    )
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        # Start-up keeps the broken provider as the default: no silent switch to the stand-in.
        assert ensure_default_provider().pk == provider.pk
        job = Generation.objects.create(
            owner=alice,
            provider=provider,
            model="gpt-image-1",
            prompt="a fox",
            params={"model": "gpt-image-1", "prompt": "a fox"},
        )
        run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == Generation.State.FAILED
    assert job.error_code == Outcome.KEY_UNREADABLE
    assert "enter the key again" in job.error_message
    assert upstream.requests == []  # nothing was sent
