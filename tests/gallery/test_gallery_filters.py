"""Gallery filters, search and sort: GET parameters kept in the URL, bad values named.

The filter, pagination and bulk tests also run on PostgreSQL (the last test starts a
throwaway cluster and runs them there), so the queries are proven on both databases.
"""

import re
from datetime import UTC, datetime

import pytest

from playground.gallery.models import Image
from tests.gallery.gallery_images import make_image

pytestmark = pytest.mark.django_db

HOSTILE = [
    "99999999999999999999999",
    "-1",
    "\u0661\u0662",
    "x" * 5000,
    "../../../../etc/passwd",
    "' OR '1'='1' --",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "9999-12-31",
    "0001-01-01",
    "2025-02-30",
    "1e309",
    "\u202egnp.exe \U0001f600 \u0130 \ufeff",
    "%ff",
    "",
]
PARAMETERS = ["q", "model", "operation", "quality", "state", "favourites", "from", "to", "sort"]


def shown(response) -> list[int]:
    """The ids of the images on a gallery page, in page order."""
    return [int(pk) for pk in re.findall(r'name="image" value="(\d+)"', response.content.decode())]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def alice_client(client, alice, catalog):
    client.force_login(alice)
    return client


def test_it_searches_prompts_and_revised_prompts_ignoring_case(alice_client, alice):
    kite = make_image(alice, "A Red KITE over the dunes")
    revised = make_image(alice, "bird", revised_prompt="A red kite, wings spread, at noon")
    make_image(alice, "a lighthouse at dusk")
    response = alice_client.get("/gallery/", {"q": "red kite"})
    assert response.status_code == 200
    assert sorted(shown(response)) == sorted([kite.pk, revised.pk])
    assert "2 images match the filters" in response.content.decode()


def test_it_takes_wildcards_in_a_search_literally(alice_client, alice):
    percent = make_image(alice, "save 100% of the colour")
    make_image(alice, "save 1000 of the colour")
    underscore = make_image(alice, "file_name")
    make_image(alice, "filename")
    assert shown(alice_client.get("/gallery/", {"q": "100%"})) == [percent.pk]
    assert shown(alice_client.get("/gallery/", {"q": "e_n"})) == [underscore.pk]
    assert shown(alice_client.get("/gallery/", {"q": "%"})) == [percent.pk]


def test_it_filters_by_model_operation_quality_and_state(alice_client, alice):
    plain = make_image(alice, model="gpt-image-2", quality="low")
    mini = make_image(alice, model="gpt-image-1-mini", quality="high")
    edit = make_image(alice, operation="edit", quality="medium")
    failed = make_image(alice, state="failed", quality="high")
    get = alice_client.get
    assert shown(get("/gallery/", {"model": "gpt-image-1-mini"})) == [mini.pk]
    assert shown(get("/gallery/", {"operation": "edit"})) == [edit.pk]
    assert set(shown(get("/gallery/", {"operation": "generate"}))) == {plain.pk, mini.pk, failed.pk}
    assert set(shown(get("/gallery/", {"quality": "high"}))) == {mini.pk, failed.pk}
    assert shown(get("/gallery/", {"state": "failed"})) == [failed.pk]
    assert shown(get("/gallery/", {"quality": "high", "state": "succeeded"})) == [mini.pk]


def test_it_shows_favourites_only(alice_client, alice):
    liked = make_image(alice, "liked")
    make_image(alice, "not liked")
    Image.objects.filter(pk=liked.pk).update(favourite=True)
    assert shown(alice_client.get("/gallery/", {"favourites": "on"})) == [liked.pk]
    assert len(shown(alice_client.get("/gallery/", {"favourites": ""}))) == 2


def test_it_filters_a_date_range_including_both_days(alice_client, alice):
    before = make_image(alice, created_at=at(1, 23))
    first = make_image(alice, created_at=at(2, 0))
    last = make_image(alice, created_at=at(4, 23))
    make_image(alice, created_at=at(5, 0))
    response = alice_client.get("/gallery/", {"from": "2025-03-02", "to": "2025-03-04"})
    assert shown(response) == [last.pk, first.pk]
    assert shown(alice_client.get("/gallery/", {"to": "2025-03-01"})) == [before.pk]
    # The ends of the calendar are accepted: no bound beyond them.
    wide = alice_client.get("/gallery/", {"from": "0001-01-01", "to": "9999-12-31"})
    assert wide.status_code == 200
    assert len(shown(wide)) == 4


def test_it_sorts_newest_or_oldest_first(alice_client, alice):
    images = [make_image(alice, created_at=at(day)) for day in (1, 2, 3)]
    newest = [image.pk for image in reversed(images)]
    assert shown(alice_client.get("/gallery/")) == newest
    assert shown(alice_client.get("/gallery/", {"sort": "newest"})) == newest
    assert shown(alice_client.get("/gallery/", {"sort": "oldest"})) == newest[::-1]


def test_it_shows_only_the_signed_in_persons_images(alice_client, alice, bob):
    mine = make_image(alice, "a shared word")
    make_image(bob, "a shared word")
    assert shown(alice_client.get("/gallery/", {"q": "shared"})) == [mine.pk]


def test_it_names_each_bad_value_and_applies_the_good_ones(alice_client, alice):
    kite = make_image(alice, "a red kite")
    make_image(alice, "a lighthouse")
    response = alice_client.get(
        "/gallery/",
        {"q": "kite", "model": "dall-e-9", "from": "2025-13-01", "sort": "largest"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Model: Unknown model" in page
    assert "From: Enter a date as YYYY-MM-DD." in page
    assert "Sort: Sort by newest or oldest." in page
    assert 'aria-invalid="true"' in page
    assert shown(response) == [kite.pk]


def test_it_refuses_a_start_date_after_the_end_date(alice_client, alice):
    make_image(alice, created_at=at(3))
    response = alice_client.get("/gallery/", {"from": "2025-03-05", "to": "2025-03-01"})
    assert response.status_code == 422
    assert "To: The end date is before the start date." in response.content.decode()
    assert len(shown(response)) == 1  # the range is left out, not half applied


def test_it_refuses_a_search_longer_than_200_characters(alice_client, alice):
    make_image(alice)
    response = alice_client.get("/gallery/", {"q": "x" * 201})
    assert response.status_code == 422
    assert "Search prompts: Search at most 200 characters." in response.content.decode()


def test_it_answers_hostile_values_without_a_server_error(alice, catalog):
    from django.test import Client

    make_image(alice, "a red kite")
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    failures = []
    for value in HOSTILE:
        for data in [{name: value} for name in PARAMETERS] + [dict.fromkeys(PARAMETERS, value)]:
            status = client.get("/gallery/", data).status_code
            htmx = client.get("/gallery/", data, headers={"HX-Request": "true"}).status_code
            if status >= 500 or htmx >= 500:
                failures.append((data, status, htmx))
    raw = "&".join(f"{name}=%ff&{name}=a" for name in PARAMETERS)
    assert client.get(f"/gallery/?{raw}").status_code < 500
    assert not failures, failures[:5]


def test_it_answers_htmx_with_the_results_only(alice_client, alice):
    make_image(alice, "a red kite")
    response = alice_client.get("/gallery/", {"q": "kite"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="gallery-results"')
    assert "<html" not in page and "gallery-filters" not in page
    assert "1 image matches the filters" in page


def test_it_keeps_the_filled_form_in_the_page(alice_client, alice):
    make_image(alice, "a red kite", quality="high")
    page = alice_client.get("/gallery/", {"q": "kite", "quality": "high"}).content.decode()
    assert 'name="q" value="kite"' in page
    assert '<option value="high" selected>' in page
