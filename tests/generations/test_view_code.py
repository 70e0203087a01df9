"""POST /generate/code/: the "View code" panel for the form's current values."""

import html

import pytest

from tests.jobs import FORM_FIELDS

URL = "/generate/code/"
PROVIDER_KEY = "sk-test-key-0123456789"


def post(client, htmx: bool = True, **changes):  # type: ignore[no-untyped-def]
    data = {**FORM_FIELDS, **changes}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(URL, data, headers=headers)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_it_requires_login(client, catalog):
    response = post(client)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_takes_post_only(logged_in):
    assert logged_in.get(URL).status_code == 405


@pytest.mark.django_db
def test_it_renders_the_code_for_the_current_values(logged_in):
    response = post(logged_in, prompt='a "red" kite', quality="low", n="3")
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page  # the panel alone, for the dialog
    assert "curl http://testserver/v1/images/generations \\" in page
    assert '"prompt": "a \\"red\\" kite"' in page  # JSON in the shell snippet
    assert "prompt='a \"red\" kite'," in page  # a Python literal
    assert '"quality": "low"' in page and 'quality="low"' in page and "n=3," in page
    assert "https://api.openai.com/v1/images/generations" in page
    assert page.count("data-copy") == 6  # this server, the task API, OpenAI; curl and Python
    assert "http://testserver/api/v1/jobs/createTask" in page
    assert PROVIDER_KEY not in page


@pytest.mark.django_db
def test_it_renders_a_whole_page_without_htmx(logged_in):
    response = post(logged_in, htmx=False, prompt="a red kite")
    assert response.status_code == 200
    assert "<html" in response.content.decode() and "client.images.generate(" in text(response)


@pytest.mark.django_db
def test_it_writes_an_edit_for_the_references_and_mask(logged_in):
    page = text(post(logged_in, reference_count="2", has_mask="1", moderation="low"))
    assert "/v1/images/edits" in page
    assert '-F "image[]=@reference-2.png"' in page and '-F "mask=@mask.png"' in page
    assert 'mask=open("mask.png", "rb")' in page
    assert "moderation" not in page  # the edits endpoint takes none


@pytest.mark.django_db
def test_it_counts_gallery_references_when_no_count_is_sent(logged_in):
    page = text(post(logged_in, reference=["12", "13"]))
    assert "image[]=@reference-2.png" in page and "reference-3.png" not in page


@pytest.mark.django_db
def test_it_ignores_a_mask_without_references(logged_in):
    page = text(post(logged_in, reference_count="0", has_mask="1"))
    assert "/v1/images/generations" in page and "mask" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "label"),
    [
        ({"prompt": ""}, "prompt", "Prompt:"),
        ({"n": "99"}, "n", "Images (n):"),
        ({"size": "12x7"}, "size", "Size:"),
        ({"quality": "ultra"}, "quality", "Quality:"),
        ({"model": "dall-e-9"}, "model", "Model:"),
        ({"output_compression": "50"}, "output_compression", "(output_compression):"),
        ({"prompt": "x" * 32_001}, "prompt", "Prompt:"),
        ({"reference_count": "17"}, "reference_count", "Reference images:"),
        ({"reference_count": "two"}, "reference_count", "Reference images:"),
    ],
)
def test_a_bad_value_names_the_field(logged_in, changes, field, label):
    response = post(logged_in, **changes)
    assert response.status_code == 422
    page = text(response)
    assert f'data-error-for="{field}"' in page and label in page
    assert "curl" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"prompt": "a\x00b"},
        {"model": "gpt-image-2\x00"},
        {"n": "1e999"},
        {"n": "9" * 400},
        {"size": "\u0661\u0660\u0662\u0664x1024"},
        {"reference_count": "\u0661"},
        {"reference_count": "9" * 400},
        {"has_mask": "\x00" * 10},
        {"reference": ["-1", "x", "9" * 40]},
        {"partial_images": "<script>"},
        {"output_compression": "NaN"},
    ],
)
def test_hostile_input_gets_an_answer_not_a_500(logged_in, changes):
    response = post(logged_in, **changes)
    # 400: the NUL bytes no field accepts, refused (with the field named) before any view.
    assert response.status_code in (200, 400, 422)
    assert "<script>" not in response.content.decode()
    if response.status_code == 400:
        assert f"field {next(iter(changes))!r}" in response.content.decode()
