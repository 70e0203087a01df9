"""A key goes only where it was typed for, and never to an internal address."""

import socket

import pytest

from playground.providers.addresses import PrivateAddress, check_base_url
from playground.providers.admin import ProviderForm
from playground.providers.client import build_client
from playground.providers.errors import Outcome, UpstreamError
from playground.providers.models import Provider

PLAIN = "sk-proj-url-test-0123456789abcdef"
PUBLIC = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]


@pytest.fixture
def public_dns(monkeypatch):
    """Every host name resolves to a public address, unless the test says otherwise."""
    answers: dict[str, str] = {}

    def fake(host, *args, **kwargs):
        address = answers.get(host, "93.184.216.34")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


def data(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "Compatible",
        "kind": Provider.Kind.COMPATIBLE,
        "base_url": "https://api.example.com/v1",
        "new_api_key": "",
        "is_enabled": "on",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value != ""}


@pytest.fixture
def stored(db, public_dns) -> Provider:
    provider = Provider(
        name="Compatible", kind=Provider.Kind.COMPATIBLE, base_url="https://api.example.com/v1"
    )
    provider.set_api_key(PLAIN)
    provider.save()
    return provider


def test_changing_the_base_url_without_the_key_is_refused(stored):
    form = ProviderForm(data=data(base_url="https://other.example.com/v1"), instance=stored)
    assert not form.is_valid()
    assert "base URL changed: type the API key again" in form.errors["new_api_key"][0]
    again = ProviderForm(
        data=data(base_url="https://other.example.com/v1", new_api_key=PLAIN), instance=stored
    )
    assert again.is_valid(), again.errors


def test_changing_the_kind_without_the_key_is_refused(stored):
    form = ProviderForm(data=data(kind=Provider.Kind.OPENAI), instance=stored)
    assert not form.is_valid() and "kind changed" in form.errors["new_api_key"][0]


def test_other_changes_keep_the_stored_key(stored):
    form = ProviderForm(data=data(name="Renamed"), instance=stored)
    assert form.is_valid(), form.errors
    assert form.save().api_key == PLAIN


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1",
        "http://10.0.0.1/v1",
        "http://169.254.169.254/latest",
        "http://[::1]:8000/v1",
        "http://[fe80::1]/v1",
        "http://[fd00::1]/v1",
        "http://0.0.0.0/v1",
        "http://192.168.1.10/v1",
    ],
)
def test_private_addresses_are_refused(db, url):
    form = ProviderForm(data=data(base_url=url, new_api_key=PLAIN))
    assert not form.is_valid()
    assert "private, loopback or link-local" in form.errors["base_url"][0]


def test_a_host_name_resolving_to_loopback_is_refused(db):
    # `localhost` really resolves to loopback: no fake resolver here.
    form = ProviderForm(data=data(base_url="http://localhost:8000/v1", new_api_key=PLAIN))
    assert not form.is_valid() and "'localhost'" in form.errors["base_url"][0]


def test_private_addresses_are_allowed_by_the_setting(db, settings):
    settings.API_ALLOW_PRIVATE_URLS = True
    form = ProviderForm(data=data(base_url="http://10.0.0.1/v1", new_api_key=PLAIN))
    assert form.is_valid(), form.errors


def test_the_offline_stand_in_is_the_exception(db, settings):
    settings.OFFLINE_API_PORT = 8001
    form = ProviderForm(
        data=data(kind=Provider.Kind.OFFLINE, base_url="http://127.0.0.1:8001/v1", new_api_key="k")
    )
    assert form.is_valid(), form.errors
    other_port = data(
        kind=Provider.Kind.OFFLINE, base_url="http://127.0.0.1:8002/v1", new_api_key="k"
    )
    assert "base_url" in ProviderForm(data=other_port).errors


def test_a_public_host_is_accepted(stored, public_dns):
    check_base_url("https://api.example.com/v1")


def test_a_dns_change_later_is_refused_at_call_time(stored, public_dns):
    build_client(stored).close()
    public_dns["api.example.com"] = "127.0.0.1"
    with pytest.raises(UpstreamError) as caught:
        build_client(stored)
    assert caught.value.outcome == Outcome.PRIVATE_ADDRESS
    assert PLAIN not in caught.value.message


def test_an_ipv4_mapped_loopback_is_refused():
    with pytest.raises(PrivateAddress):
        check_base_url("http://[::ffff:127.0.0.1]/v1")
