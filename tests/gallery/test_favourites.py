"""Favourites: a star on each image, set by its owner only, with htmx or a plain form post."""

import pytest
from django.test import Client

from playground.gallery.models import Image
from tests.gallery.gallery_images import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(alice):
    return make_image(alice, "a red kite")


def url(image: Image) -> str:
    return f"/gallery/{image.pk}/favourite/"


def is_favourite(image: Image) -> bool:
    return Image.objects.get(pk=image.pk).favourite


def test_it_marks_and_unmarks_a_favourite(client, alice, image):
    client.force_login(alice)
    client.post(url(image), {"favourite": "1"})
    assert is_favourite(image)
    client.post(url(image), {"favourite": "1"})  # a second click sent twice changes nothing
    assert is_favourite(image)
    client.post(url(image), {"favourite": "0"})
    assert not is_favourite(image)


def test_it_flips_when_no_value_is_sent(client, alice, image):
    client.force_login(alice)
    client.post(url(image))
    assert is_favourite(image)
    client.post(url(image))
    assert not is_favourite(image)


def test_it_answers_htmx_with_the_button_in_its_new_state(client, alice, image):
    client.force_login(alice)
    response = client.post(
        url(image), {"favourite": "1", "next": "/gallery/?q=kite"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<form class="favourite-form"')
    assert 'aria-pressed="true"' in html
    assert 'name="favourite" value="0"' in html  # the next press unmarks it
    assert 'name="next" value="/gallery/?q=kite"' in html


def test_it_redirects_back_without_javascript(client, alice, image):
    client.force_login(alice)
    response = client.post(url(image), {"favourite": "1", "next": "/gallery/?favourites=on"})
    assert response.status_code == 302
    assert response["Location"] == "/gallery/?favourites=on"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "", "javascript:x"]
)
def test_it_never_redirects_off_the_site(client, alice, image, next_url):
    client.force_login(alice)
    response = client.post(url(image), {"favourite": "1", "next": next_url})
    assert response["Location"] == "/gallery/"


def test_it_refuses_a_value_other_than_1_or_0(client, alice, image):
    client.force_login(alice)
    response = client.post(url(image), {"favourite": "yes"})
    assert response.status_code == 400
    assert "favourite" in response.content.decode()
    assert not is_favourite(image)


def test_it_answers_404_for_an_image_of_someone_else(client, bob, image):
    client.force_login(bob)
    assert client.post(url(image), {"favourite": "1"}).status_code == 404
    assert client.post("/gallery/999999/favourite/").status_code == 404
    assert not is_favourite(image)


def test_it_sends_a_visitor_to_log_in(client, image):
    response = client.post(url(image), {"favourite": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not is_favourite(image)


def test_it_takes_only_a_post_with_a_csrf_token(alice, image):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(url(image)).status_code == 405
    assert client.post(url(image), {"favourite": "1"}).status_code == 403
    assert not is_favourite(image)


def test_it_shows_the_star_on_each_gallery_image(client, alice, image):
    Image.objects.filter(pk=image.pk).update(favourite=True)
    make_image(alice, "another")
    client.force_login(alice)
    page = client.get("/gallery/").content.decode()
    assert page.count('class="favourite-button"') == 2
    assert page.count('aria-pressed="true"') == 1
