"""GET /shares/: each of the user's links with its images, expiry, views and Revoke."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from playground.sharing.services import create_share
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db


def test_it_needs_a_login(client):
    response = client.get("/shares/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_lists_the_users_links(client, alice, bob):
    first, second = make_image(alice, seed=1), make_image(alice, seed=2)
    plain = create_share(alice, [first], None, False)
    detailed = create_share(alice, [first, second], timezone.now() + timedelta(days=7), True)
    revoked = create_share(alice, [second], None, False)
    revoked.revoke()
    theirs = create_share(bob, [make_image(bob, seed=3)], None, False)
    type(plain).objects.filter(pk=plain.pk).update(view_count=42)
    client.force_login(alice)
    response = client.get("/shares/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/s/{plain.token}/" in html and f"/s/{detailed.token}/" in html
    assert theirs.token not in html
    assert f'src="/gallery/{second.pk}/thumbnail/"' in html
    assert "42 views" in html
    assert "Never expires" in html and "Expires " in html
    assert "Prompt and parameters shown" in html and "Prompt and parameters hidden" in html
    assert html.count(">Revoke</button>") == 2
    assert f"/shares/{revoked.pk}/revoke/" not in html and "Revoked" in html
    assert 'aria-current="page">Shared links' in html


def test_it_shows_expired_links_as_expired(client, alice):
    link = create_share(alice, [make_image(alice)], timezone.now() + timedelta(hours=1), False)
    type(link).objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(alice)
    html = client.get("/shares/").content.decode()
    assert 'data-state="expired"' in html and "Expired " in html
    assert ">Revoke</button>" not in html


def test_it_offers_recent_images_to_start_a_link(client, alice):
    image = make_image(alice)
    client.force_login(alice)
    html = client.get("/shares/").content.decode()
    assert f'name="image" value="{image.pk}" form="share-new"' in html
    assert 'id="share-new"' in html and 'commandfor="share-new-dialog"' in html
    assert "js/share.js" in html


def _page_queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/shares/").status_code == 200
    return len(queries)


def test_it_runs_a_fixed_number_of_queries(client, alice):
    images = [make_image(alice, seed=n) for n in range(4)]
    create_share(alice, images[:1], None, False)
    client.force_login(alice)
    few = _page_queries(client)
    for n in range(8):
        create_share(alice, images[: 1 + n % 4], None, n % 2 == 0)
    assert _page_queries(client) == few


def test_it_draws_the_list_again_for_htmx(client, alice):
    link = create_share(alice, [make_image(alice)], None, False)
    client.force_login(alice)
    response = client.get("/shares/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="share-links"')
    assert f"/s/{link.token}/" in html and "<html" not in html
