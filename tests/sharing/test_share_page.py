"""GET /s/<token>/ as a visitor with no account: what the link shows, and nothing else."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.sharing.models import ShareLink
from playground.sharing.services import create_share
from tests.jobs import make_job
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db

PROMPT = "a walrus reading the financial times in a sauna"
REVISED = "a walrus wearing spectacles reads a pink newspaper"


@pytest.fixture
def image(alice) -> Image:  # type: ignore[no-untyped-def]
    return make_image(alice, prompt=PROMPT, revised_prompt=REVISED)


def share(owner, images, *, show_details=False, expires_at=None) -> ShareLink:  # type: ignore[no-untyped-def]
    return create_share(owner, list(images), expires_at, show_details)


def meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, f"no {key} meta tag"
    return unescape(match.group(1))


def test_it_shows_the_image_to_a_visitor_without_an_account(client, alice, image):
    link = share(alice, [image])
    response = client.get(f"/s/{link.token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="/s/{link.token}/1/display/"' in html
    assert f'href="/s/{link.token}/1/download/"' in html
    shown = client.get(f"/s/{link.token}/1/display/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"


def test_it_hides_the_prompt_and_parameters_unless_chosen(client, alice, image):
    link = share(alice, [image], show_details=False)
    html = client.get(f"/s/{link.token}/").content.decode()
    for hidden in (PROMPT, REVISED, "walrus", "gpt-image-2", "Parameters", "Quality", "1024x1024"):
        assert hidden not in html, hidden
    assert "walrus" not in meta(html, "og:description")


def test_it_shows_the_prompt_and_parameters_when_chosen(client, alice, image):
    link = share(alice, [image], show_details=True)
    html = unescape(client.get(f"/s/{link.token}/").content.decode())
    assert PROMPT in html and REVISED in html
    assert "gpt-image-2" in html and "1024x1024" in html
    assert meta(html, "og:description") == PROMPT


def test_it_shows_each_prompt_of_a_set_once(client, alice):
    job = make_job(alice, prompt="four owls on a branch", state="succeeded", n=2)
    owls = [make_image(alice, job=job, index=n, seed=n) for n in range(2)]
    other = make_image(alice, prompt="a single heron", seed=7)
    link = share(alice, [*owls, other], show_details=True)
    html = client.get(f"/s/{link.token}/").content.decode()
    assert html.count('<p class="prompt-text">four owls on a branch</p>') == 1
    assert html.count('<p class="prompt-text">a single heron</p>') == 1
    assert [f"/s/{link.token}/{n}/display/" in html for n in (1, 2, 3)] == [True] * 3
    assert meta(html, "og:title") == "3 shared images"


def test_it_exposes_no_internal_id_or_user_name(client, django_user_model):
    owner = django_user_model.objects.create_user("wilhelmina-k", id=8273645)
    job = Generation.objects.create(
        id=7394561,
        owner=owner,
        model="gpt-image-2",
        prompt="a red kite",
        params={},
        state="succeeded",
    )
    image = make_image(owner, job=job)
    Image.objects.filter(pk=image.pk).update(id=6482917)
    image = Image.objects.get(pk=6482917)
    ShareLink.objects.create(id=5918272, owner=owner)  # the next link's id follows it
    link = share(owner, [image], show_details=True)
    link_id = [str(link.pk)] if link.pk > 5918272 else []  # PostgreSQL's sequence ignores it
    responses = [client.get(f"/s/{link.token}/")] + [
        client.get(f"/s/{link.token}/1/{which}/")
        for which in ("display", "original", "download", "thumbnail")
    ]
    html = responses[0].content.decode()
    assert "a red kite" in html  # the page is the detailed one
    for secret in ["8273645", "7394561", "6482917", *link_id, "wilhelmina", image.sha256[:12]]:
        assert secret not in html, secret
        for response in responses:
            headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
            assert secret not in headers, (secret, headers)
    # Only the link's own addresses: no gallery, job or account page, no form.
    paths = re.findall(r'(?:href|src|content)="(/[^"]*|https?://[^"]*)"', html)
    assert paths and all(f"/s/{link.token}/" in path or "/static/" in path for path in paths)
    assert "<form" not in html and "csrf" not in html.lower()


def test_it_sets_no_cookie_and_asks_not_to_be_indexed(client, alice, image):
    link = share(alice, [image])
    response = client.get(f"/s/{link.token}/")
    assert not response.cookies
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_it_does_not_show_the_owners_other_images(client, alice, image):
    other = make_image(alice, prompt="an unrelated private photo", seed=3)
    link = share(alice, [image], show_details=True)
    html = client.get(f"/s/{link.token}/").content.decode()
    assert "an unrelated private photo" not in html
    assert f"/gallery/{other.pk}/" not in html and f"/gallery/{image.pk}/" not in html
    assert client.get(f"/s/{link.token}/2/display/").status_code == 404


def test_it_counts_each_view(client, alice, image):
    link = share(alice, [image])
    for _ in range(3):
        client.get(f"/s/{link.token}/")
    client.head(f"/s/{link.token}/")  # a preview bot checking the link is not a view
    link.refresh_from_db()
    assert link.view_count == 3


@override_settings(PUBLIC_BASE_URL="https://images.example.com")
def test_it_carries_open_graph_tags_with_absolute_urls(client, alice):
    image = make_image(alice, size=(1536, 1024))
    link = share(alice, [image])
    html = client.get(f"/s/{link.token}/").content.decode()
    assert meta(html, "og:image") == f"https://images.example.com/s/{link.token}/1/display/"
    assert meta(html, "og:url") == f"https://images.example.com/s/{link.token}/"
    assert meta(html, "og:title") == "A shared image"
    assert meta(html, "og:image:type") == "image/jpeg"
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == meta(html, "og:image")
    with image.display.open("rb") as handle, PILImage.open(handle) as shown:
        assert (int(meta(html, "og:image:width")), int(meta(html, "og:image:height"))) == shown.size
    assert shown.size == (1024, 683)


def test_it_takes_the_address_from_the_request_by_default(client, alice, image):
    link = share(alice, [image])
    html = client.get(f"/s/{link.token}/", headers={"Host": "localhost"}).content.decode()
    assert meta(html, "og:image") == f"http://localhost/s/{link.token}/1/display/"


def test_it_redirects_the_address_without_a_slash(client, alice, image):
    link = share(alice, [image])
    response = client.get(f"/s/{link.token}")
    assert response.status_code == 301 and response["Location"] == f"/s/{link.token}/"


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_it_answers_410_once_revoked_or_expired(client, alice, image, state):
    link = share(alice, [image])
    assert client.get(f"/s/{link.token}/").status_code == 200
    if state == "revoked":
        link.revoke()
    else:
        ShareLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    response = client.get(f"/s/{link.token}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "no longer" in html or "expired" in html
    assert "/1/display/" not in html and "og:image" not in html
    assert response["X-Robots-Tag"] == "noindex" and response["Cache-Control"] == "no-store"
    link.refresh_from_db()
    assert link.view_count == 1


def test_it_stops_when_the_link_runs_out_on_its_own(client, alice, image):
    link = share(alice, [image], expires_at=timezone.now() + timedelta(milliseconds=300))
    assert client.get(f"/s/{link.token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert client.get(f"/s/{link.token}/").status_code == 410


def test_it_answers_404_to_guessed_tokens(client, alice, image):
    link = share(alice, [image])
    near = link.token[:-1] + ("A" if link.token[-1] != "A" else "B")
    for token in (
        near,
        "A" * 32,
        link.token.lower() if link.token != link.token.lower() else "x" * 32,
    ):
        response = client.get(f"/s/{token}/")
        assert response.status_code == 404, token
        assert response["X-Robots-Tag"] == "noindex"
    for path in ("/s/short/", "/s/../gallery/", f"/s/{link.token}%00/", f"/s/{link.pk}/"):
        assert client.get(path).status_code in (400, 404), path


def test_it_answers_410_when_every_image_was_deleted(client, alice, image):
    link = share(alice, [image])
    image.delete()
    assert client.get(f"/s/{link.token}/").status_code == 410


def test_it_needs_no_login_even_for_the_owner(client, alice, image):
    link = share(alice, [image])
    client.force_login(alice)
    html = client.get(f"/s/{link.token}/").content.decode()
    assert "alice" not in html and "Log out" not in html
