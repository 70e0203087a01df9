"""Shared fixtures: the offline stand-in over loopback HTTP, a provider pointing at it, users."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test.utils import override_settings

from playground.catalog.models import ImageModel
from playground.catalog.seed import seed_catalog
from playground.offline_api.server import OfflineImagesAPI
from playground.providers.models import Provider


@pytest.fixture(scope="session", autouse=True)
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Media in a temporary folder, plain static files, quick retries."""
    data_dir = tmp_path_factory.mktemp("data")
    overrides = override_settings(
        MEDIA_ROOT=data_dir / "media",
        WAKEUP_DIR=data_dir / "run",
        STATIC_ROOT=data_dir / "static",  # made below: whitenoise warns of a missing one
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        # The default hasher is slow by design; tests create many users.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        UPSTREAM_BACKOFF_SECONDS=0.05,
        UPSTREAM_TIMEOUT_SECONDS=10,
    )
    (data_dir / "static").mkdir()
    overrides.enable()
    yield data_dir
    overrides.disable()


@pytest.fixture(scope="session")
def stand_in() -> Iterator[OfflineImagesAPI]:
    # With /_control/*: the stand-in's own tests drive faults and read its log over HTTP.
    api = OfflineImagesAPI(port=0, log=False, enable_control=True).start()
    # The bundled stand-in is the one on OFFLINE_API_PORT (the offline provider kind reaches
    # no other address), here and in the worker processes tests start.
    os.environ["OFFLINE_API_PORT"] = str(api.port)
    with override_settings(OFFLINE_API_PORT=api.port):
        yield api
    api.stop()


@pytest.fixture
def upstream(stand_in: OfflineImagesAPI) -> Iterator[OfflineImagesAPI]:
    """The stand-in with no faults, no latency and an empty request log."""
    stand_in.reset()
    yield stand_in
    stand_in.reset()


@pytest.fixture
def catalog(db: None) -> None:
    """The seeded model catalog (transactional tests flush what the migration wrote)."""
    seed_catalog(ImageModel)


@pytest.fixture
def provider(catalog: None, upstream: OfflineImagesAPI) -> Provider:
    provider = Provider(
        name="Stand-in", kind=Provider.Kind.OFFLINE, base_url=upstream.base_url, is_default=True
    )
    provider.set_api_key("sk-test-key-0123456789")
    provider.save()
    return provider


@pytest.fixture
def alice(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def logged_in(client, alice, provider):  # type: ignore[no-untyped-def]
    """A test client signed in as alice, with the stand-in as the default provider."""
    client.force_login(alice)
    return client


@pytest.fixture
def bob(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture(scope="session")
def live_server(django_db_setup, django_db_blocker) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The app over ASGI (uvicorn), like production, in place of pytest-django's WSGI server.

    pytest-django's own helper still gives each test that uses it a transactional database.
    Stopped before the test database is dropped: its job event listener holds a connection.
    """
    from tests.asgi_server import AsgiLiveServer

    with django_db_blocker.unblock():
        server = AsgiLiveServer()
    yield server
    server.stop()
