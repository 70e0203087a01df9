"""Kie.ai's model ids as catalog aliases: aspect_ratio x resolution -> a size the model takes."""

import json
from typing import Any

import pytest
from django.urls import reverse

from playground.api.kie_inputs import KieRequest, alias_values, kie_request
from playground.catalog import tokens
from playground.catalog.forms import ImageModelAdminForm
from playground.catalog.models import ImageModel, ModelAlias
from playground.core.errors import ApiError, kie_response
from tests.catalog.test_admin_form import post_data, row_values

pytestmark = pytest.mark.django_db

# What Kie documents for each model id (its createTask pages): the aspect ratios, the
# resolutions, and the pairs it refuses.
GPT_2_RATIOS = [
    "auto",
    *["1:1", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "16:9", "9:16"],
    *["2:1", "1:2", "3:1", "1:3", "21:9", "9:21"],
]
RESOLUTIONS = ["1K", "2K", "4K"]
ONLY_1K = {("auto", "2K"), ("auto", "4K"), ("1:1", "4K")}
ONLY_1K |= {(ratio, res) for ratio in ("5:4", "4:5") for res in ("2K", "4K")}
KIE_DOCS = {
    "gpt-image/1.5-text-to-image": ("gpt-image-1.5", ["1:1", "2:3", "3:2"], [None], set()),
    "gpt-image/1.5-image-to-image": ("gpt-image-1.5", ["1:1", "2:3", "3:2"], [None], set()),
    "gpt-image-2-text-to-image": (
        "gpt-image-2",
        GPT_2_RATIOS,
        RESOLUTIONS,
        ONLY_1K | {(ratio, res) for ratio in ("3:1", "1:3", "9:21") for res in ("2K", "4K")},
    ),
    "gpt-image-2-image-to-image": ("gpt-image-2", GPT_2_RATIOS, RESOLUTIONS, ONLY_1K),
}
IMAGE_TO_IMAGE = {"gpt-image/1.5-image-to-image", "gpt-image-2-image-to-image"}
REFERENCE = ["https://example.com/cat.png"]


def pairs(*, offered: bool) -> list[tuple[str, str, str | None]]:
    return [
        (alias, ratio, resolution)
        for alias, (_model, ratios, resolutions, refused) in KIE_DOCS.items()
        for ratio in ratios
        for resolution in resolutions
        if ((ratio, resolution) not in refused) == offered
    ]


def kie_input(alias: str, **fields: Any) -> dict[str, Any]:
    given = {"prompt": "a lighthouse", **fields}
    if alias in IMAGE_TO_IMAGE:
        given.setdefault("input_urls", REFERENCE)
    return given


def refusal(model_id: str, given: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as raised:
        kie_request(model_id, given)
    assert raised.value.status == 400
    return raised.value


def test_it_seeds_kie_model_ids_with_the_migrations() -> None:
    rows = {alias.alias: alias for alias in ModelAlias.objects.select_related("image_model")}
    assert set(rows) == set(KIE_DOCS)
    for alias, (model_id, *_rest) in KIE_DOCS.items():
        assert rows[alias].image_model.model_id == model_id
        expected = "required" if alias in IMAGE_TO_IMAGE else "refused"
        assert rows[alias].references == expected


@pytest.mark.parametrize(("alias", "ratio", "resolution"), pairs(offered=True))
def test_it_maps_each_documented_pair_to_a_size_the_model_takes(
    catalog: None, alias: str, ratio: str, resolution: str | None
) -> None:
    fields = {"aspect_ratio": ratio} | ({"resolution": resolution} if resolution else {})
    mapped = kie_request(alias, kie_input(alias, **fields))
    model = ImageModel.objects.get(model_id=KIE_DOCS[alias][0])
    size = mapped.params["size"]
    assert mapped.model_id == model.model_id
    assert model.size_error(size) is None
    assert mapped.input["size"] == size
    assert "aspect_ratio" not in mapped.input and "resolution" not in mapped.input
    if ratio == "auto":
        assert size == "auto"
    else:
        width, height = tokens.parse_size(size)
        ratio_w, ratio_h = map(int, ratio.split(":"))
        assert width * ratio_h == height * ratio_w, size


@pytest.mark.parametrize(("alias", "ratio", "resolution"), pairs(offered=False))
def test_it_refuses_the_pairs_kie_refuses_naming_the_resolution(
    catalog: None, alias: str, ratio: str, resolution: str
) -> None:
    error = refusal(alias, kie_input(alias, aspect_ratio=ratio, resolution=resolution))
    assert error.param == "input.resolution"
    assert error.code == "invalid_value"
    assert f"{resolution} at aspect ratio {ratio}" in error.message


@pytest.mark.parametrize("ratio", ["3:2", "4:3", "16:9", "2:1", "21:9"])
def test_resolutions_grow_with_the_tier(catalog: None, ratio: str) -> None:
    def pixels(resolution: str) -> int:
        given = {"prompt": "x", "aspect_ratio": ratio, "resolution": resolution}
        size = kie_request("gpt-image-2-text-to-image", given).params["size"]
        width, height = tokens.parse_size(size)
        return width * height

    assert pixels("1K") < pixels("2K") < pixels("4K")


@pytest.mark.parametrize(
    ("alias", "size", "quality"),
    [
        ("gpt-image/1.5-text-to-image", "1024x1024", "medium"),
        ("gpt-image/1.5-image-to-image", "1536x1024", "medium"),
        ("gpt-image-2-text-to-image", "auto", None),
        ("gpt-image-2-image-to-image", "auto", None),
    ],
)
def test_it_fills_in_kie_defaults(
    catalog: None, alias: str, size: str, quality: str | None
) -> None:
    mapped = kie_request(alias, kie_input(alias))
    assert mapped.params.get("size") == size
    assert mapped.params.get("quality") == quality
    assert mapped.alias == alias


def test_it_keeps_the_other_fields_and_says_what_references_may_be(catalog: None) -> None:
    given = {"prompt": "a cat", "n": 2, "input_urls": REFERENCE, "aspect_ratio": "3:2"}
    given |= {"quality": "high", "mask_url": "https://example.com/mask.png"}
    mapped = kie_request("gpt-image/1.5-image-to-image", given)
    assert mapped == KieRequest(
        model_id="gpt-image-1.5",
        params={"size": "1536x1024", "quality": "high"},
        input={
            "prompt": "a cat",
            "n": 2,
            "input_urls": REFERENCE,
            "quality": "high",
            "mask_url": "https://example.com/mask.png",
            "size": "1536x1024",
        },
        references="required",
        alias="gpt-image/1.5-image-to-image",
    )
    assert given["aspect_ratio"] == "3:2"  # the caller's dict is left alone
    assert kie_request("gpt-image-2-text-to-image", {"prompt": "x"}).references == "refused"


def test_a_catalog_model_id_keeps_the_images_api_size(catalog: None) -> None:
    given = {"prompt": "a cat", "size": "1536x1024", "quality": "low", "input_urls": REFERENCE}
    mapped = kie_request("gpt-image-2", given)
    assert mapped == KieRequest(
        model_id="gpt-image-2", params={}, input=given, references="optional", alias=""
    )
    assert kie_request("no-such-model", {"prompt": "x"}).model_id == "no-such-model"


def test_a_catalog_model_id_takes_no_aspect_ratio(catalog: None) -> None:
    error = refusal("gpt-image-2", {"prompt": "x", "aspect_ratio": "16:9"})
    assert error.param == "input.aspect_ratio"
    assert "gpt-image-2-image-to-image or gpt-image-2-text-to-image" in error.message
    assert refusal("gpt-image-1.5", {"prompt": "x", "resolution": "1K"}).param == (
        "input.resolution"
    )


@pytest.mark.parametrize(
    ("alias", "fields", "param", "words"),
    [
        ("gpt-image/1.5-text-to-image", {"resolution": "4K"}, "input.resolution", "'1K'"),
        ("gpt-image/1.5-text-to-image", {"aspect_ratio": "16:9"}, "input.aspect_ratio", "'3:2'"),
        ("gpt-image/1.5-text-to-image", {"quality": "low"}, "input.quality", "'medium' and"),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "7:5"}, "input.aspect_ratio", "'21:9'"),
        ("gpt-image-2-text-to-image", {"resolution": "8K"}, "input.resolution", "'4K'"),
        (
            "gpt-image-2-text-to-image",
            {"resolution": "4K"},
            "input.resolution",
            "at aspect ratio auto (the default)",
        ),
        (
            "gpt-image-2-text-to-image",
            {"size": "1024x1024", "aspect_ratio": "1:1"},
            "input.aspect_ratio",
            "either size or",
        ),
        (
            "gpt-image-2-text-to-image",
            {"size": "1024x1024", "resolution": "1K"},
            "input.resolution",
            "either size or",
        ),
        ("gpt-image-2-text-to-image", {"input_urls": REFERENCE}, "input.input_urls", "image-to"),
        ("gpt-image-2-text-to-image", {"mask_url": "https://a/m.png"}, "input.mask_url", "mask"),
    ],
)
def test_it_refuses_what_the_model_id_does_not_offer_naming_the_field(
    catalog: None, alias: str, fields: dict[str, Any], param: str, words: str
) -> None:
    error = refusal(alias, {"prompt": "x", **fields})
    assert (error.param, error.code) == (param, "invalid_value")
    assert words in error.message
    response = kie_response(error)  # the task API's envelope
    body = json.loads(response.content)
    assert response.status_code == 422 == body["code"]
    assert body["msg"].startswith(f"{param}: ")


def test_image_to_image_needs_references(catalog: None) -> None:
    for given in ({"prompt": "x"}, {"prompt": "x", "input_urls": []}):
        error = refusal("gpt-image-2-image-to-image", given)
        assert (error.param, error.code) == ("input.input_urls", "missing_required_parameter")
        assert "gpt-image-2-text-to-image" in error.message


def test_a_field_of_the_wrong_type_is_named(catalog: None) -> None:
    error = refusal("gpt-image-2-text-to-image", {"prompt": "x", "aspect_ratio": 16})
    assert (error.param, error.code) == ("input.aspect_ratio", "invalid_type")


def test_it_takes_a_resolution_in_either_case_and_passes_other_qualities(catalog: None) -> None:
    given = {"prompt": "x", "aspect_ratio": "16:9", "resolution": "2k", "quality": "high"}
    mapped = kie_request("gpt-image-2-text-to-image", given)
    assert mapped.params == {"size": "2560x1440", "quality": "high"}


def test_a_size_the_catalog_model_no_longer_takes_is_refused(catalog: None) -> None:
    ImageModel.objects.filter(model_id="gpt-image-2").update(free_size=None)
    given = {"prompt": "x", "aspect_ratio": "4:3", "resolution": "1K"}
    error = refusal("gpt-image-2-text-to-image", given)
    assert error.param == "input.resolution"
    assert "1152x864, which gpt-image-2 does not take" in error.message


def test_alias_values_list_what_the_documentation_needs(catalog: None) -> None:
    values = alias_values()
    assert sorted(values["aliases"]) == sorted(KIE_DOCS)
    assert set(GPT_2_RATIOS) <= set(values["aspect_ratios"])
    assert values["resolutions"] == ["1K", "2K", "4K"]
    spec = values["specs"]["gpt-image-2-image-to-image"]
    assert spec["model"] == "gpt-image-2" and spec["input_urls"] == "required"
    assert spec["sizes"]["16:9"] == {"1K": "1280x720", "2K": "2560x1440", "4K": "3840x2160"}
    assert values["specs"]["gpt-image/1.5-text-to-image"]["qualities"] == ["medium", "high"]
    ImageModel.objects.filter(model_id="gpt-image-1.5").update(status=ImageModel.Status.RETIRED)
    assert sorted(alias_values()["aliases"]) == [
        "gpt-image-2-image-to-image",
        "gpt-image-2-text-to-image",
    ]


# ---------------------------------------------------------------- the admin


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-1")


def alias_form(**changes: Any) -> dict[str, str]:
    values = {
        "alias": "poster-2",
        "image_model": str(ImageModel.objects.get(model_id="gpt-image-2").pk),
        "references": "refused",
        "sizes": json.dumps({"2:3": {"1K": "832x1248", "4K": "2336x3504"}}),
        "default_aspect_ratio": "2:3",
        "default_resolution": "1K",
        "qualities": json.dumps(["high"]),
        "default_quality": "high",
        **changes,
    }
    return {name: str(value) for name, value in values.items()}


def test_an_admin_adds_an_alias_and_the_task_api_uses_it(client: Any, root: Any) -> None:
    client.force_login(root)
    response = client.post(reverse("admin:catalog_modelalias_add"), alias_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    mapped = kie_request("poster-2", {"prompt": "x", "resolution": "4K"})
    assert mapped.model_id == "gpt-image-2"
    assert mapped.params == {"size": "2336x3504", "quality": "high"}
    assert refusal("poster-2", {"prompt": "x", "quality": "low"}).param == "input.quality"
    page = client.get(reverse("admin:catalog_modelalias_changelist"))
    assert b"poster-2" in page.content and b"gpt-image-2-text-to-image" in page.content


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"alias": "gpt-image-2"}, "alias", "A catalog model already has this id"),
        ({"sizes": json.dumps({"2:3": {"1K": "1248x832"}})}, "sizes", "1248x832 is not 2:3"),
        ({"sizes": json.dumps({"2:3": {"1K": "834x1251"}})}, "sizes", "multiples of 16"),
        ({"sizes": json.dumps({"wide": {"1K": "auto"}})}, "sizes", "is not an aspect ratio"),
        ({"sizes": json.dumps(["832x1248"])}, "sizes", "Enter an object such as"),
        ({"default_aspect_ratio": "16:9"}, "default_aspect_ratio", "Pick one of"),
        ({"default_resolution": "2K"}, "default_resolution", "With 2:3 the table offers"),
        ({"qualities": json.dumps(["ultra"])}, "qualities", "does not take ultra"),
        ({"default_quality": "low"}, "default_quality", "Pick one of the qualities"),
    ],
)
def test_the_admin_refuses_an_alias_the_model_cannot_make(
    client: Any, root: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    client.force_login(root)
    response = client.post(reverse("admin:catalog_modelalias_add"), alias_form(**changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert not ModelAlias.objects.filter(alias="poster-2").exists()


def test_the_admin_refuses_presets_a_model_does_not_have(client: Any, root: Any) -> None:
    client.force_login(root)
    model_15 = ImageModel.objects.get(model_id="gpt-image-1.5")
    form = alias_form(
        image_model=model_15.pk,
        sizes=json.dumps({"1:1": {"1K": "1024x1024", "2K": "2048x2048"}}),
        default_aspect_ratio="1:1",
    )
    response = client.post(reverse("admin:catalog_modelalias_add"), form)
    errors = response.context["adminform"].form.errors
    assert any("takes only these sizes" in error for error in errors["sizes"]), errors


def test_a_catalog_model_cannot_take_an_alias_id(catalog: None) -> None:
    values = {**row_values("gpt-image-2"), "model_id": "gpt-image-2-text-to-image"}
    form = ImageModelAdminForm(data=post_data(values))
    assert not form.is_valid()
    assert "A model alias already has this id" in form.errors["model_id"][0]
