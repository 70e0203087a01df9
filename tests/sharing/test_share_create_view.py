"""POST /shares/new/: the Share dialog's form, checked field by field."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from playground.sharing.models import ShareLink
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db

URL = "/shares/new/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def image(alice):  # type: ignore[no-untyped-def]
    return make_image(alice, prompt="a quiet harbour")


def test_it_needs_a_login(client, image):
    response = client.post(URL, {"image": [image.pk], "expiry": "never"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ShareLink.objects.exists()


def test_it_takes_only_posts(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 405


def test_it_creates_a_link_and_shows_it_to_copy(client, alice, image):
    client.force_login(alice)
    response = client.post(
        URL, {"image": [image.pk], "expiry": "never", "show_details": "on"}, headers=HTMX
    )
    assert response.status_code == 201
    link = ShareLink.objects.get()
    assert link.owner == alice and link.show_details and link.expires_at is None
    html = response.content.decode()
    assert f'value="http://testserver/s/{link.token}/"' in html
    assert "data-share-copy" in html
    assert response["HX-Retarget"] == "next [data-share-result]"
    assert "share-created" in response["HX-Trigger"]


def test_it_keeps_details_hidden_unless_ticked(client, alice, image):
    client.force_login(alice)
    client.post(URL, {"image": [image.pk], "expiry": "never"}, headers=HTMX)
    assert ShareLink.objects.get().show_details is False


@pytest.mark.parametrize(("expiry", "days"), [("day", 1), ("week", 7), ("month", 30)])
def test_it_sets_the_chosen_expiry(client, alice, image, expiry, days):
    client.force_login(alice)
    before = timezone.now()
    response = client.post(URL, {"image": [image.pk], "expiry": expiry}, headers=HTMX)
    assert response.status_code == 201
    expires = ShareLink.objects.get().expires_at
    assert before + timedelta(days=days) <= expires <= timezone.now() + timedelta(days=days)


def test_it_expires_on_a_chosen_date(client, alice, image):
    client.force_login(alice)
    day = timezone.localdate() + timedelta(days=3)
    response = client.post(
        URL, {"image": [image.pk], "expiry": "date", "expires_on": day.isoformat()}, headers=HTMX
    )
    assert response.status_code == 201
    assert ShareLink.objects.get().expires_at == timezone.make_aware(
        datetime.combine(day, time.min)
    )


def test_it_shares_a_selection_in_the_posted_order(client, alice):
    client.force_login(alice)
    images = [make_image(alice, seed=n) for n in range(3)]
    chosen = [images[2].pk, images[0].pk]
    client.post(URL, {"image": chosen, "expiry": "never"}, headers=HTMX)
    assert list(ShareLink.objects.get().items.values_list("image_id", flat=True)) == chosen


def test_it_redirects_without_javascript(client, alice, image):
    client.force_login(alice)
    response = client.post(URL, {"image": [image.pk], "expiry": "week"}, follow=True)
    assert response.redirect_chain == [("/shares/", 302)]
    link = ShareLink.objects.get()
    assert f"Link created: http://testserver/s/{link.token}/" in response.content.decode()


def _refused(client, data, field):  # type: ignore[no-untyped-def]
    response = client.post(URL, data, headers=HTMX)
    assert response.status_code == 422, response.content
    html = response.content.decode()
    assert f'data-error-for="{field}"' in html, html
    assert not ShareLink.objects.exists()
    return html


def test_it_names_a_missing_selection(client, alice):
    client.force_login(alice)
    html = _refused(client, {"expiry": "never"}, "image")
    assert "Images: Choose at least one image to share." in html


@pytest.mark.parametrize("bad", ["abc", "-3", "1.5", "99999999999999999999999999", "0"])
def test_it_names_an_image_id_that_is_not_one(client, alice, image, bad):
    client.force_login(alice)
    html = _refused(client, {"image": [image.pk, bad], "expiry": "never"}, "image")
    assert "is not an image id" in html


def test_it_refuses_images_of_someone_else(client, alice, bob, image):
    theirs = make_image(bob, prompt="bob's private sketch", seed=9)
    client.force_login(alice)
    html = _refused(client, {"image": [image.pk, theirs.pk], "expiry": "never"}, "image")
    assert "Only your own images can be shared." in html
    assert "bob&#x27;s private sketch" not in html and "bob's private sketch" not in html


def test_it_refuses_an_image_that_does_not_exist(client, alice, image):
    client.force_login(alice)
    _refused(client, {"image": [image.pk + 1000], "expiry": "never"}, "image")


@pytest.mark.parametrize("bad", ["forever", "", "DAY"])
def test_it_names_a_bad_expiry(client, alice, image, bad):
    client.force_login(alice)
    html = _refused(client, {"image": [image.pk], "expiry": bad}, "expiry")
    assert "Expiry:" in html


def test_it_needs_the_date_when_expiring_on_a_date(client, alice, image):
    client.force_login(alice)
    html = _refused(client, {"image": [image.pk], "expiry": "date"}, "expires_on")
    assert "Expires on: Choose the date the link expires." in html


@pytest.mark.parametrize("days", [0, -1, -400])
def test_it_needs_a_date_after_today(client, alice, image, days):
    client.force_login(alice)
    day = (timezone.localdate() + timedelta(days=days)).isoformat()
    data = {"image": [image.pk], "expiry": "date", "expires_on": day}
    html = _refused(client, data, "expires_on")
    assert "The date must be after today." in html


@pytest.mark.parametrize("bad", ["2030-13-40", "tomorrow", "31/12/2030", "99999-01-01"])
def test_it_names_a_date_it_cannot_read(client, alice, image, bad):
    client.force_login(alice)
    data = {"image": [image.pk], "expiry": "date", "expires_on": bad}
    html = _refused(client, data, "expires_on")
    assert "Enter a date as YYYY-MM-DD." in html


def test_it_ignores_the_date_for_other_expiries(client, alice, image):
    client.force_login(alice)
    data = {"image": [image.pk], "expiry": "week", "expires_on": "garbage"}
    assert client.post(URL, data, headers=HTMX).status_code == 201


def test_it_keeps_the_choices_when_refusing(client, alice, image):
    client.force_login(alice)
    data = {"image": [image.pk], "expiry": "date", "expires_on": "", "show_details": "on"}
    html = _refused(client, data, "expires_on")
    assert re.search(r'value="date"\s+checked', html)
    assert re.search(r'name="show_details" value="on"\s+checked', html)


def test_it_shows_the_form_again_without_javascript(client, alice, image):
    client.force_login(alice)
    response = client.post(URL, {"image": [image.pk, "junk"], "expiry": "soon"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-error-for="expiry"' in html and 'data-error-for="image"' in html
    assert f'name="image" value="{image.pk}"' in html
    assert 'value="junk"' not in html
    assert not ShareLink.objects.exists()


def test_it_answers_400_to_a_nul_byte(client, alice, image):
    client.force_login(alice)
    response = client.post(URL, {"image": [image.pk], "expiry": "ne\x00ver"}, headers=HTMX)
    assert response.status_code == 400
    assert not ShareLink.objects.exists()


def test_it_takes_the_last_date_of_the_calendar(client, alice, image):
    client.force_login(alice)
    data = {"image": [image.pk], "expiry": "date", "expires_on": date.max.isoformat()}
    assert client.post(URL, data, headers=HTMX).status_code == 201
    assert ShareLink.objects.get().expires_at.date() == date.max
