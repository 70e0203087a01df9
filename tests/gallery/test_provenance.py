"""Content Credentials on the image page, read from real C2PA manifests signed in the test."""

import hashlib
import io
import json

import c2pa
import pytest
from django.core.cache import cache

from playground.gallery.provenance import read_provenance
from playground.gallery.storage import store_image
from tests.gallery.c2pa_signing import (
    damage_manifest,
    make_credentials,
    png,
    sign_png,
    tamper,
)
from tests.jobs import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_media_and_cache(settings, tmp_path):
    """Stored images go to this test's folder; no provenance cached by an earlier test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def signed_png() -> bytes:
    return sign_png(png(), make_credentials())


def stored(owner, data: bytes):
    job = make_job(owner, state="succeeded")
    return store_image(job, 0, data)


def test_it_shows_the_claim_generator_actions_and_verdict_of_a_signed_image(
    client, alice, signed_png
):
    image = stored(alice, signed_png)
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Content Credentials" in page
    assert "playground-test/1.0" in page
    assert "<code>c2pa.created</code>" in page
    assert "Made by a generative AI model" in page
    assert "Playground Test Signer" in page
    # Intact, but signed by a certificate no trust list knows: said plainly, not "Verified".
    assert "Valid signature." in page
    assert "not on a trust list" in page
    assert "signingCredential.untrusted" in page
    assert "No content credentials" not in page


def test_it_reads_the_active_manifest(alice, signed_png):
    provenance = read_provenance(stored(alice, signed_png))
    assert provenance is not None
    assert provenance.readable
    assert provenance.claim_generator == "playground-test/1.0"
    assert [(a.name, a.software_agent) for a in provenance.actions] == [
        ("c2pa.created", "playground-test/1.0")
    ]
    assert provenance.actions[0].source_type.endswith("/trainedAlgorithmicMedia")
    assert provenance.signer == "Playground Test Signer"
    assert provenance.issuer == "Playground Test CA"
    assert provenance.algorithm == "ES256"
    assert provenance.state == "Valid"
    assert provenance.validates
    assert [f.code for f in provenance.failures] == ["signingCredential.untrusted"]


def test_it_downloads_the_signed_file_byte_for_byte_with_its_manifest(client, alice, signed_png):
    image = stored(alice, signed_png)
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/download/")
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(signed_png).hexdigest()
    assert hashlib.sha256(body).hexdigest() == image.sha256
    with c2pa.Reader("image/png", io.BytesIO(body)) as reader:
        store = json.loads(reader.json())
        assert reader.get_validation_state() == "Valid"
    manifest = store["manifests"][store["active_manifest"]]
    assert manifest["claim_generator_info"][0]["name"] == "playground-test"


def test_it_says_no_content_credentials_for_an_unsigned_image(client, alice):
    image = stored(alice, png("orange"))
    client.force_login(alice)
    page = client.get(f"/gallery/{image.pk}/").content.decode()
    assert "No content credentials" in page
    assert read_provenance(image) is None


def test_it_shows_that_validation_failed_for_a_tampered_image(client, alice, signed_png):
    image = stored(alice, tamper(signed_png))
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Validation failed." in page
    assert "assertion.dataHash.mismatch" in page
    assert "playground-test/1.0" in page  # the claims are still shown, for what they are worth
    provenance = read_provenance(image)
    assert provenance.state == "Invalid"
    assert not provenance.validates


def test_it_reports_a_damaged_manifest_as_unreadable_not_a_500(client, alice, signed_png):
    image = stored(alice, damage_manifest(signed_png))
    client.force_login(alice)
    response = client.get(f"/gallery/{image.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Could not be read." in page
    assert "No content credentials" not in page
    provenance = read_provenance(image)
    assert not provenance.readable
    assert not provenance.validates


def test_it_reads_each_file_once_then_answers_from_the_cache(alice, signed_png):
    image = stored(alice, signed_png)
    first = read_provenance(image)
    # The original is gone from storage: only the cache (keyed by the file's hash) can answer.
    image.file.storage.delete(image.file.name)
    assert read_provenance(image) == first


def test_it_does_not_cache_a_file_it_could_not_open(alice, signed_png):
    image = stored(alice, signed_png)
    saved = image.file.storage.open(image.file.name).read()
    image.file.storage.delete(image.file.name)
    missing = read_provenance(image)
    assert not missing.readable
    assert "could not be opened" in missing.error
    with image.file.storage.open(image.file.name, "wb") as restored:
        restored.write(saved)
    assert read_provenance(image).readable


def test_it_shows_credentials_only_to_the_owner(client, alice, bob, signed_png):
    image = stored(alice, signed_png)
    client.force_login(bob)
    assert client.get(f"/gallery/{image.pk}/").status_code == 404
