"""templates/sharing/share_form.html, as other pages include it."""

import pytest
from django.template import engines
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/")
    return engines["django"].from_string(source).render(context, request)


def test_it_posts_one_image():
    html = render('{% include "sharing/share_form.html" with share_image_id=7 %}')
    assert '<form id="share-form"' in html and 'commandfor="share-form-dialog"' in html
    assert html.count('name="image"') == 1 and 'name="image" value="7"' in html
    assert 'hx-post="/shares/new/"' in html and 'action="/shares/new/"' in html
    assert 'value="never" checked' in html and "show_details" in html


def test_it_posts_a_list_of_images():
    source = '{% include "sharing/share_form.html" with share_image_ids=ids %}'
    html = render(source, ids=[3, 1, 2])
    assert html.index('value="3"') < html.index('value="1"') < html.index('value="2"')


def test_it_takes_a_selection_by_form_id():
    html = render('{% include "sharing/share_form.html" with share_form_id="gallery-share" %}')
    assert '<form id="gallery-share"' in html and 'id="gallery-share-dialog"' in html
    assert 'name="image"' not in html  # the page's checkboxes carry form="gallery-share"
    assert "<script src=" in html and "onclick" not in html
