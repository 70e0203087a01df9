"""The provider admin: staff only, one default, audited, test connection, no key on a page."""

import logging
import socket
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from playground.audit.models import AuditEvent
from playground.generations.models import Generation
from playground.providers.admin import ProviderForm
from playground.providers.models import Provider

PLAIN = "sk-proj-never-shown-0123456789abcdef"
CHANGELIST = "/admin/providers/provider/"


def change_url(provider: Provider) -> str:
    return reverse("admin:providers_provider_change", args=[provider.pk])


def form_data(provider: Provider, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": provider.name,
        "kind": provider.kind,
        "base_url": provider.base_url,
        "new_api_key": "",
        "is_enabled": "on" if provider.is_enabled else "",
        "is_default": "on" if provider.is_default else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def offline(name: str, base_url: str, key: str = PLAIN, **fields: object) -> Provider:
    provider = Provider(name=name, kind=Provider.Kind.OFFLINE, base_url=base_url, **fields)
    provider.set_api_key(key)
    provider.save()
    return provider


@pytest.mark.django_db
def test_a_non_staff_user_gets_nothing_of_the_provider_admin(client, alice, provider):
    assert client.get(CHANGELIST).status_code == 302  # anonymous: to the login page
    client.force_login(alice)
    for url in (CHANGELIST, change_url(provider), "/admin/providers/provider/add/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert PLAIN not in response.content.decode()
    response = client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [1]})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_default():
    offline("One", "http://127.0.0.1:9/v1", is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        offline("Two", "http://127.0.0.1:9/v1", is_default=True)


@pytest.mark.django_db
def test_ticking_default_unticks_the_old_one_and_is_audited(admin_client, provider):
    other = offline("Second", provider.base_url)
    response = admin_client.post(change_url(other), form_data(other, is_default="on"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(Provider.objects.filter(is_default=True)) == [other]
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHANGED)
    assert event.details == {"fields": ["is_default"]} and event.actor.is_staff


@pytest.mark.django_db
def test_a_disabled_provider_cannot_be_default(provider):
    form = ProviderForm(data=form_data(provider, is_enabled=""), instance=provider)
    assert not form.is_valid()
    assert "disabled provider cannot be the default" in form.errors["is_default"][0]


@pytest.mark.django_db
def test_creating_deleting_and_enabling_are_audited(admin_client, upstream):
    response = admin_client.post(
        "/admin/providers/provider/add/",
        {
            "name": "New",
            "kind": Provider.Kind.OFFLINE,
            "base_url": upstream.base_url,
            "new_api_key": PLAIN,
            "is_enabled": "on",
        },
    )
    assert response.status_code == 302
    created = Provider.objects.get(name="New")
    assert created.api_key == PLAIN
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATED)
    assert "api key" in event.details["fields"] and PLAIN not in str(event.details)

    for action in ("disable_providers", "enable_providers"):
        admin_client.post(CHANGELIST, {"action": action, "_selected_action": [created.pk]})
    assert [e.action for e in AuditEvent.objects.order_by("id")][1:] == ["disabled", "enabled"]

    admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [created.pk], "post": "yes"}
    )
    assert not Provider.objects.filter(pk=created.pk).exists()
    assert AuditEvent.objects.filter(action="deleted", target_label="New").exists()


@pytest.mark.django_db
def test_a_new_key_is_audited_as_rotated_without_its_value(admin_client, provider):
    response = admin_client.post(
        change_url(provider), form_data(provider, new_api_key="sk-replacement-0123456789")
    )
    assert response.status_code == 302
    assert Provider.objects.get(pk=provider.pk).api_key == "sk-replacement-0123456789"
    assert AuditEvent.objects.filter(action="rotated").count() == 1
    for event in AuditEvent.objects.all():
        assert "sk-replacement" not in str(event.details)


def run_test_connection(admin_client, selected: Provider) -> str:
    response = admin_client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [selected.pk]}, follow=True
    )
    return response.content.decode()


@pytest.mark.django_db
def test_test_connection_reports_success(admin_client, provider):
    page = run_test_connection(admin_client, provider)
    assert "Stand-in: connection works" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.TESTED)
    assert event.details == {"result": "ok"}


@pytest.mark.django_db
def test_test_connection_reports_a_rejected_key(admin_client, upstream):
    bad = offline("Bad key", upstream.base_url, key="sk-invalid")
    page = run_test_connection(admin_client, bad)
    assert "Bad key: The provider rejected the API key" in page
    assert AuditEvent.objects.get(action="tested").details["status"] == 401


@pytest.mark.django_db
def test_test_connection_reports_an_unreachable_provider(admin_client, settings):
    settings.API_ALLOW_PRIVATE_URLS = True  # the closed port is on loopback
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = Provider(
        name="Gone", kind=Provider.Kind.COMPATIBLE, base_url=f"http://127.0.0.1:{port}/v1"
    )
    gone.set_api_key(PLAIN)
    gone.save()
    page = run_test_connection(admin_client, gone)
    assert "Gone: Could not reach the image service" in page


@pytest.mark.django_db
def test_an_offline_provider_elsewhere_than_the_stand_in_is_refused(admin_client, settings):
    # A listener on loopback that is not the bundled stand-in never sees the typed key.
    settings.API_ALLOW_PRIVATE_URLS = False
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        elsewhere = offline("Elsewhere", f"http://127.0.0.1:{port}/v1")
        page = run_test_connection(admin_client, elsewhere)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert "Elsewhere: The provider &#x27;Elsewhere&#x27; points at an address" in page
    assert "bundled stand-in only" in page
    form = ProviderForm(
        data={
            "name": "Other",
            "kind": Provider.Kind.OFFLINE,
            "base_url": f"http://127.0.0.1:{port}/v1",
            "new_api_key": PLAIN,
            "is_enabled": "on",
        }
    )
    assert not form.is_valid() and "bundled stand-in only" in form.errors["base_url"][0]


@pytest.mark.django_db
def test_the_key_never_appears_in_admin_pages_or_logs(admin_client, provider, caplog):
    offline("Plain", provider.base_url, key=PLAIN)
    caplog.set_level(logging.DEBUG)
    pages = [admin_client.get(CHANGELIST), admin_client.get(change_url(provider))]
    pages.append(admin_client.get(change_url(Provider.objects.get(name="Plain"))))
    run_test_connection(admin_client, Provider.objects.get(name="Plain"))
    for response in pages:
        assert response.status_code == 200
        assert PLAIN not in response.content.decode()
        assert "sk-test-key-0123456789" not in response.content.decode()
    assert "sk-...cdef" in pages[0].content.decode()  # masked
    assert PLAIN not in caplog.text and "sk-test-key-0123456789" not in caplog.text


@pytest.mark.django_db
def test_the_changelist_shows_spend_per_provider(admin_client, provider, alice):
    for usd in ("1.25", "0.50"):
        Generation.objects.create(
            owner=alice, provider=provider, model="gpt-image-1", prompt="p", actual_usd=Decimal(usd)
        )
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Spend this month" in page and "1.75" in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_only_the_most_recently_updated_default():
    from datetime import timedelta

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before, after = [("providers", "0001_initial")], [("providers", "0002_single_default")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("providers", "Provider")
    now = timezone.now()
    for name, age in (("Older", 2), ("Newest", 0), ("Oldest", 5)):
        old.objects.create(name=name, is_default=True)
        old.objects.filter(name=name).update(updated_at=now - timedelta(days=age))
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    assert list(Provider.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Newest"
    ]


@pytest.mark.django_db
def test_the_change_page_has_a_test_connection_button(admin_client, provider):
    url = reverse("admin:providers_provider_test_connection", args=[provider.pk])
    assert url in admin_client.get(change_url(provider)).content.decode()
    assert admin_client.get(url).status_code == 405  # a POST only: it calls the provider
    response = admin_client.post(url, follow=True)
    assert "Stand-in: connection works" in response.content.decode()
    assert AuditEvent.objects.filter(action="tested").count() == 1
