"""Keyset pagination of the gallery: cursors in the URL, filters kept, a fixed query count."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from playground.gallery.models import Image
from playground.gallery.pages import Cursor, parse_cursor
from playground.gallery.views import PAGE_SIZE
from tests.gallery.gallery_images import clone_images, make_image

pytestmark = pytest.mark.django_db


def shown(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="image" value="(\d+)"', response.content.decode())]


def link(response, rel: str) -> str | None:
    """The href of the page's rel=prev / rel=next link."""
    match = re.search(rf'<a href="([^"]+)"[^>]* rel="{rel}"', response.content.decode())
    return unescape(match[1]) if match else None


@pytest.fixture
def alice_client(client, alice, catalog):
    client.force_login(alice)
    return client


def gallery_of(owner, count: int) -> list[int]:
    """`count` images of `owner`, as ids newest first."""
    first = make_image(owner, "the newest")
    clone_images(first, count - 1)
    return list(Image.objects.for_user(owner).values_list("pk", flat=True))


def walk(client, url: str, rel: str) -> list[list[int]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(shown(response))
        url = link(response, rel)
    return pages


def test_it_pages_through_everything_once_and_back(alice_client, alice):
    everything = gallery_of(alice, 60)
    pages = walk(alice_client, "/gallery/", "next")
    assert [len(page) for page in pages] == [24, 24, 12]
    assert [pk for page in pages for pk in page] == everything
    # Back from the last page with "← Newer": the same pages in reverse.
    last = alice_client.get("/gallery/?after=" + str(Cursor.of(Image.objects.get(pk=pages[1][-1]))))
    assert shown(last) == pages[2]
    assert walk(alice_client, link(last, "prev"), "prev") == [pages[1], pages[0]]


def test_it_pages_images_made_at_the_same_moment_without_gaps(alice_client, alice):
    first = make_image(alice)
    same = clone_images(first, 40, start=first.created_at)
    Image.objects.filter(pk__in=[image.pk for image in same]).update(created_at=first.created_at)
    pages = walk(alice_client, "/gallery/", "next")
    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(Image.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 41


def test_it_pages_oldest_first_too(alice_client, alice):
    everything = gallery_of(alice, 30)
    pages = walk(alice_client, "/gallery/?sort=oldest", "next")
    assert [pk for page in pages for pk in page] == everything[::-1]
    assert "Newer →" in alice_client.get("/gallery/?sort=oldest").content.decode()


def test_it_keeps_the_filters_in_the_page_links(alice_client, alice):
    first = make_image(alice, "kite")
    clone_images(first, 40)
    Image.objects.update(favourite=True)
    response = alice_client.get("/gallery/", {"favourites": "on", "sort": "newest", "q": "e"})
    following = link(response, "next")
    assert following.startswith("/gallery/?q=e&favourites=on&sort=newest&after=")
    second = alice_client.get(following)
    assert 'name="q" value="e"' in second.content.decode()
    assert link(second, "prev").startswith("/gallery/?q=e&favourites=on&sort=newest&before=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "1-2",
        "-1-0-1",
        "999999999999999999-0-1",  # beyond the year 9999
        "9999999999999999999-0-1",
        "1700000000000000-99999-1",
        "1700000000000000-0-0",
        "1700000000000000-0-99999999999999999999",
        "\u0661\u0662-0-1",
        "1700000000000000-0-1; DROP TABLE gallery_image",
        "x" * 5000,
    ],
)
def test_it_gives_the_first_page_with_a_message_for_a_hostile_cursor(alice_client, alice, cursor):
    everything = gallery_of(alice, 30)
    for key in ("after", "before"):
        response = alice_client.get("/gallery/", {key: cursor})
        assert response.status_code == 200
        assert shown(response) == everything[:PAGE_SIZE]
        assert "That page link was not understood" in response.content.decode()


def test_it_continues_from_a_deleted_image(alice_client, alice):
    everything = gallery_of(alice, 30)
    response = alice_client.get("/gallery/")
    Image.objects.filter(pk=everything[PAGE_SIZE - 1]).delete()  # the cursor's own image
    assert shown(alice_client.get(link(response, "next"))) == everything[PAGE_SIZE:]


def test_it_says_when_a_cursor_is_past_the_end(alice_client, alice):
    gallery_of(alice, 3)
    old = Cursor(timezone.now() - timedelta(days=3650), 0, 1)
    response = alice_client.get("/gallery/", {"after": str(old)})
    assert shown(response) == []
    assert "No more images here" in response.content.decode()


def test_it_tops_up_a_first_page_reached_backwards(alice_client, alice):
    everything = gallery_of(alice, 30)
    cursor = Cursor.of(Image.objects.get(pk=everything[5]))  # only 5 images are newer
    response = alice_client.get("/gallery/", {"before": str(cursor)})
    assert shown(response) == everything[:PAGE_SIZE]
    assert link(response, "prev") is None


def test_it_round_trips_a_cursor():
    image = Image(created_at=timezone.now(), index=3, pk=42)
    assert parse_cursor(str(Cursor.of(image))) == Cursor.of(image)


def queries_for(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_it_runs_the_same_queries_for_10_100_and_1000_images(alice_client, alice):
    template = make_image(alice, "the newest")
    counts: dict[str, list[int]] = {"first": [], "deep": [], "filtered": [], "htmx": []}
    made = 1
    for total in (10, 100, 1000):
        clone_images(template, total - made, start=template.created_at - timedelta(days=made))
        made = total
        deep = Image.objects.for_user(alice).order_by("-created_at", "index", "-id")[total - 5]
        after = str(Cursor.of(deep))
        counts["first"].append(len(queries_for(alice_client, "/gallery/")))
        sqls = queries_for(alice_client, f"/gallery/?after={after}")
        counts["deep"].append(len(sqls))
        assert not any("OFFSET" in sql.upper() for sql in sqls), sqls
        url = f"/gallery/?q=clone&quality=low&favourites=&after={after}"
        counts["filtered"].append(len(queries_for(alice_client, url)))
        with CaptureQueriesContext(connection) as captured:
            alice_client.get("/gallery/", headers={"HX-Request": "true"})
        counts["htmx"].append(len(captured))
    for name, measured in counts.items():
        assert len(set(measured)) == 1, (name, measured)
    # Session, user, catalog, count, page; the full page adds the header's own few.
    assert counts["htmx"][0] <= 5, counts
