"""Kie.ai's model ids and `input` fields, mapped to a catalog model and the Images API's names.

A Kie model id (`gpt-image-2-text-to-image`) is an alias of a catalog model (catalog
`ModelAlias`). Its `aspect_ratio` and `resolution` pick a size from the alias's table (the
defaults fill in what is left out), its `quality` must be one the alias offers, and its
`input_urls` are required (image to image) or refused (text to image). A catalog model id
(`gpt-image-2`) keeps the Images API's own `size` and takes no `aspect_ratio` or `resolution`.

`kie_request` is the one entry point. It reads the catalog and changes nothing; a value or a
pair the alias does not offer is an `ApiError` (400, `invalid_value`) naming the field as the
task API does (`input.aspect_ratio`).
"""

from dataclasses import dataclass
from typing import Any

from playground.catalog.models import ImageModel, ModelAlias, find_alias
from playground.core.errors import ApiError, invalid

KIE_FIELDS = ("aspect_ratio", "resolution")
REQUIRED = ModelAlias.References.REQUIRED.value
REFUSED = ModelAlias.References.REFUSED.value
OPTIONAL = "optional"  # a catalog model id: an edit with references, or a generation without


@dataclass(frozen=True)
class KieRequest:
    """What a task asks of the playground once Kie's names are mapped."""

    model_id: str  # the catalog model to queue
    params: dict[str, Any]  # the Images API parameters Kie's fields became: size, quality
    input: dict[str, Any]  # the task's `input` with Kie's fields replaced by `params`
    references: str  # "required", "refused" or "optional": what `input_urls` may be
    alias: str = ""  # the Kie model id asked for; empty for a catalog model id


def kie_request(model_id: str, given: dict[str, Any]) -> KieRequest:
    """Map a task's `model` and `input` to the catalog model and Images API parameters.

    Raises ApiError (400) naming `input.aspect_ratio`, `input.resolution`, `input.quality`,
    `input.input_urls` or `input.mask_url` for what the model id does not offer.
    """
    alias = find_alias(model_id)
    if alias is None:
        return catalog_request(model_id, given)
    check_references(alias, given)
    params: dict[str, Any] = {}
    if (size := alias_size(alias, given)) is not None:
        params["size"] = size
    if quality := alias_quality(alias, given):
        params["quality"] = quality
    mapped = {name: value for name, value in given.items() if name not in KIE_FIELDS}
    return KieRequest(
        model_id=alias.image_model.model_id,
        params=params,
        input={**mapped, **params},
        references=alias.references,
        alias=alias.alias,
    )


def catalog_request(model_id: str, given: dict[str, Any]) -> KieRequest:
    """A catalog model id (or an unknown one, for the catalog to refuse): unchanged."""
    for name in KIE_FIELDS:
        if given.get(name) is not None:
            aliases = list(
                ModelAlias.objects.filter(image_model__model_id=model_id).values_list(
                    "alias", flat=True
                )
            )
            hint = f" ({' or '.join(aliases)} for {model_id})" if aliases else ""
            raise invalid(
                f"input.{name}",
                f"{model_id or 'This model'} takes size (WIDTHxHEIGHT, or auto), not {name}: "
                f"aspect_ratio and resolution go with Kie's model ids{hint}.",
            )
    return KieRequest(model_id=model_id, params={}, input=dict(given), references=OPTIONAL)


# ---------------------------------------------------------------- the fields


def text(given: dict[str, Any], name: str) -> str | None:
    value = given.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(
        400,
        f"Invalid type for 'input.{name}': expected a string.",
        param=f"input.{name}",
        code="invalid_type",
    )


def listed(values: list[str], last: str = "and") -> str:
    """['1K', '2K'] -> "'1K' and '2K'"."""
    quoted = [f"'{value}'" for value in values]
    if len(quoted) < 2:
        return "".join(quoted) or "none"
    return ", ".join(quoted[:-1]) + f" {last} {quoted[-1]}"


def sibling(alias: ModelAlias) -> str:
    """The other alias of the same catalog model (text to image <-> image to image), if any."""
    other = (
        ModelAlias.objects.filter(image_model_id=alias.image_model_id)
        .exclude(references=alias.references)
        .values_list("alias", flat=True)
        .first()
    )
    return other or ""


def check_references(alias: ModelAlias, given: dict[str, Any]) -> None:
    has_references = bool(given.get("input_urls"))
    if alias.references == REQUIRED and not has_references:
        other = sibling(alias)
        raise ApiError(
            400,
            f"{alias} makes an image from reference images: give at least one URL in "
            "input_urls." + (f" Without references, use {other}." if other else ""),
            param="input.input_urls",
            code="missing_required_parameter",
        )
    if alias.references != REFUSED:
        return
    other = sibling(alias)
    instead = f"; use {other} for an edit" if other else ""
    if has_references:
        raise invalid("input.input_urls", f"{alias} takes no reference images{instead}.")
    if given.get("mask_url"):
        raise invalid("input.mask_url", f"{alias} takes no mask{instead}.")


def alias_size(alias: ModelAlias, given: dict[str, Any]) -> str | None:
    """The size `aspect_ratio` x `resolution` picks; None when `size` itself is given."""
    ratio, resolution = text(given, "aspect_ratio"), text(given, "resolution")
    if given.get("size") is not None:
        if ratio is not None or resolution is not None:
            name = "aspect_ratio" if ratio is not None else "resolution"
            raise invalid(
                f"input.{name}", "Give either size or aspect_ratio and resolution, not both."
            )
        return None  # the Images API's own size, for the catalog model to check
    if ratio is not None and ratio not in alias.sizes:
        raise invalid(
            "input.aspect_ratio",
            f"Invalid value: '{ratio}'. {alias} takes these aspect ratios: "
            f"{listed(alias.aspect_ratios)}.",
        )
    if resolution is not None:
        names = {name.upper(): name for name in alias.resolutions}
        if resolution.upper() not in names:
            raise invalid(
                "input.resolution",
                f"Invalid value: '{resolution}'. {alias} takes these resolutions: "
                f"{listed(alias.resolutions)}.",
            )
        resolution = names[resolution.upper()]
    return offered_size(alias, ratio, resolution)


def offered_size(alias: ModelAlias, ratio: str | None, resolution: str | None) -> str:
    """The table's size for the pair, the defaults filling in what was left out."""
    pair_ratio = ratio if ratio is not None else alias.default_aspect_ratio
    pair_resolution = resolution if resolution is not None else alias.default_resolution
    size = alias.size_for(pair_ratio, pair_resolution)
    field = "input.resolution" if resolution is not None else "input.aspect_ratio"
    if size is None:
        offered = list(alias.sizes.get(pair_ratio, {}))
        message = (
            f"{alias} does not offer {pair_resolution} at aspect ratio {pair_ratio}"
            + ("" if ratio is not None else " (the default)")
            + f"; {pair_ratio} comes in {listed(offered)}."
        )
        if ratio is None:
            others = [r for r, row in alias.sizes.items() if pair_resolution in row][:3]
            if others:
                message += (
                    f" Give an aspect_ratio such as {listed(others, 'or')} for {pair_resolution}."
                )
        raise invalid(field, message)
    model: ImageModel = alias.image_model
    if problem := model.size_error(size):
        raise invalid(
            field,
            f"{alias} makes {pair_ratio} at {pair_resolution} as {size}, which {model} does not "
            f"take: {problem}",
        )
    return size


def alias_quality(alias: ModelAlias, given: dict[str, Any]) -> str | None:
    """The quality asked for (or the alias's default); the alias's own list when it has one."""
    quality = text(given, "quality")
    if quality is None:
        return alias.default_quality or None
    if alias.qualities and quality not in alias.qualities:
        raise invalid(
            "input.quality",
            f"Invalid value: '{quality}'. {alias} takes these qualities: "
            f"{listed(alias.qualities)}.",
        )
    return quality  # with no list of its own, the catalog model checks it


# ---------------------------------------------------------------- for the API documentation


def alias_values() -> dict[str, Any]:
    """The Kie model ids of active catalog models and what each takes, for the documentation:
    `aliases` (ids), `aspect_ratios` and `resolutions` (unions), `specs` (id -> its spec)."""
    aliases = list(
        ModelAlias.objects.select_related("image_model").filter(
            image_model__status=ImageModel.Status.ACTIVE
        )
    )
    ratios = [ratio for alias in aliases for ratio in alias.aspect_ratios]
    resolutions = [name for alias in aliases for name in alias.resolutions]
    return {
        "aliases": [alias.alias for alias in aliases],
        "aspect_ratios": list(dict.fromkeys(ratios)),
        "resolutions": list(dict.fromkeys(resolutions)),
        "specs": {alias.alias: alias.spec() for alias in aliases},
    }
