"""The admin lists every link, filters by state, and revokes in bulk."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playground.sharing.models import ShareLink
from playground.sharing.services import create_share
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/sharing/sharelink/"


@pytest.fixture
def links(alice, bob) -> dict[str, ShareLink]:  # type: ignore[no-untyped-def]
    now = timezone.now()
    active = create_share(alice, [make_image(alice, seed=1)], None, False)
    expired = create_share(bob, [make_image(bob, seed=2)], now + timedelta(hours=1), True)
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(hours=1))
    revoked = create_share(alice, [make_image(alice, seed=3)], None, False)
    revoked.revoke()
    return {"active": active, "expired": expired, "revoked": revoked}


def test_it_lists_and_filters_links(admin_client, links):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    for state, link in links.items():
        filtered = admin_client.get(CHANGELIST, {"state": state})
        assert list(filtered.context["cl"].result_list) == [link], state


def test_it_shows_a_link(admin_client, links):
    response = admin_client.get(f"{CHANGELIST}{links['active'].pk}/change/")
    assert response.status_code == 200
    assert links["active"].token in response.content.decode()


def test_it_revokes_the_selected_links(admin_client, links):
    chosen = [links["active"].pk, links["revoked"].pk]
    revoked_before = ShareLink.objects.get(pk=links["revoked"].pk).revoked_at
    response = admin_client.post(
        CHANGELIST, {"action": "revoke_links", "_selected_action": chosen}, follow=True
    )
    assert response.status_code == 200
    assert "Revoked 1 link(s)." in response.content.decode()
    assert ShareLink.objects.get(pk=links["active"].pk).revoked_at is not None
    assert ShareLink.objects.get(pk=links["revoked"].pk).revoked_at == revoked_before
    assert ShareLink.objects.get(pk=links["expired"].pk).revoked_at is None


def test_it_does_not_make_links_itself(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
