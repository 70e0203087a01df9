"""POST /shares/<pk>/revoke/: the owner or staff revoke; anyone else gets 404."""

import pytest

from playground.sharing.models import ShareLink
from playground.sharing.services import create_share
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(alice) -> ShareLink:  # type: ignore[no-untyped-def]
    return create_share(alice, [make_image(alice)], None, False)


def url(link: ShareLink) -> str:
    return f"/shares/{link.pk}/revoke/"


def test_it_lets_the_owner_revoke(client, alice, link):
    client.force_login(alice)
    response = client.post(url(link), follow=True)
    assert response.redirect_chain == [("/shares/", 302)]
    assert "The link was revoked" in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is not None
    client.logout()
    assert client.get(f"/s/{link.token}/").status_code == 410
    assert client.get(f"/s/{link.token}/1/display/").status_code == 410


def test_it_swaps_the_row_for_htmx(client, alice, link):
    client.force_login(alice)
    response = client.post(url(link), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<li class="card share-row" data-state="revoked"')
    assert ">Revoke</button>" not in html
    assert "share-revoked" in response["HX-Trigger"]


def test_it_answers_404_to_another_user(client, bob, link):
    client.force_login(bob)
    assert client.post(url(link)).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_it_lets_staff_revoke_any_link(client, staff, link):
    client.force_login(staff)
    assert client.post(url(link)).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_it_sends_anonymous_visitors_to_login(client, link):
    response = client.post(url(link))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    link.refresh_from_db()
    assert link.revoked_at is None


def test_it_takes_only_posts(client, alice, link):
    client.force_login(alice)
    assert client.get(url(link)).status_code == 405
    link.refresh_from_db()
    assert link.revoked_at is None


def test_revoking_twice_keeps_the_first_time(client, alice, link):
    client.force_login(alice)
    client.post(url(link))
    link.refresh_from_db()
    first = link.revoked_at
    client.post(url(link))
    link.refresh_from_db()
    assert link.revoked_at == first
