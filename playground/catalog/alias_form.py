"""The admin's form for a model alias: refuse a size table the catalog model cannot make.

Every size must be one the alias's catalog model takes (`ImageModel.size_error`) and have the
aspect ratio it is listed under; the defaults must be a pair the table offers.
"""

import re
from typing import Any

from django import forms

from playground.catalog import tokens
from playground.catalog.models import ImageModel, ModelAlias

AUTO = "auto"
RATIO = re.compile(r"([1-9][0-9]{0,2}):([1-9][0-9]{0,2})")
RESOLUTION = re.compile(r"[0-9A-Za-z.]{1,10}")
# How far a size's shape may stray from the ratio it is listed under (1920x1088 is 16:9).
RATIO_TOLERANCE = 0.01
EXAMPLE = '{"1:1": {"1K": "1024x1024"}, "16:9": {"1K": "1280x720", "2K": "2560x1440"}}'


def ratio_problem(ratio: str, size: str) -> str | None:
    """Why `size` does not have the shape of `ratio` ("16:9" or auto), or None."""
    if ratio == AUTO:
        return None
    match = RATIO.fullmatch(ratio)
    if match is None:
        return f"{ratio!r} is not an aspect ratio: use W:H, such as 16:9, or auto."
    if size == AUTO:
        return f"auto is not a {ratio} size: give WIDTHxHEIGHT."
    try:
        width, height = tokens.parse_size(size)
    except ValueError:
        return None  # the catalog model's own check names it
    wanted = int(match.group(1)) / int(match.group(2))
    if height == 0 or abs(width / height - wanted) > RATIO_TOLERANCE * wanted:
        return f"{size} is not {ratio}."
    return None


def table_problems(sizes: Any, image_model: ImageModel | None) -> list[str]:
    """Why the {aspect_ratio: {resolution: size}} table cannot be offered (empty when it can)."""
    if not isinstance(sizes, dict) or not sizes:
        return [f"Enter an object such as {EXAMPLE}."]
    problems = []
    for ratio, row in sizes.items():
        if not isinstance(row, dict) or not row:
            problems.append(f'{ratio}: enter its resolutions, such as {{"1K": "1024x1024"}}.')
            continue
        for resolution, size in row.items():
            where = f"{ratio} at {resolution}"
            if not RESOLUTION.fullmatch(resolution):
                problems.append(f"{resolution!r} is not a resolution: use a name such as 1K.")
            elif not isinstance(size, str):
                problems.append(f'{where}: the size must be a string such as "1024x1024".')
            elif problem := size_problem(ratio, size, image_model):
                problems.append(f"{where}: {problem}")
    return problems


def size_problem(ratio: str, size: str, image_model: ImageModel | None) -> str | None:
    """Why `size` cannot be the alias's size for `ratio`: its shape, or its catalog model."""
    if problem := ratio_problem(ratio, size):
        return problem
    return image_model.size_error(size) if image_model is not None else None


class ModelAliasAdminForm(forms.ModelForm):
    class Meta:
        model = ModelAlias
        fields = (
            "alias",
            "image_model",
            "references",
            "sizes",
            "default_aspect_ratio",
            "default_resolution",
            "qualities",
            "default_quality",
        )

    def clean_alias(self) -> str:
        alias = self.cleaned_data["alias"].strip()
        if not alias or any(char.isspace() for char in alias):
            raise forms.ValidationError("A model id has no spaces.")
        if ImageModel.objects.filter(model_id=alias).exists():
            raise forms.ValidationError(
                "A catalog model already has this id: an alias needs an id of its own."
            )
        return alias

    def clean_qualities(self) -> list[str]:
        qualities = self.cleaned_data.get("qualities") or []
        if not isinstance(qualities, list) or not all(isinstance(q, str) for q in qualities):
            raise forms.ValidationError('Enter a list such as ["medium", "high"], or [].')
        return qualities

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        image_model = cleaned.get("image_model")
        sizes = cleaned.get("sizes")
        if "sizes" not in self.errors:
            for problem in table_problems(sizes, image_model):
                self.add_error("sizes", problem)
        if image_model is not None:
            self.check_references(cleaned, image_model)
            self.check_qualities(cleaned, image_model)
        if "sizes" not in self.errors:
            self.check_defaults(cleaned)
        return cleaned

    def check_references(self, cleaned: dict[str, Any], image_model: ImageModel) -> None:
        if cleaned.get("references") == ModelAlias.References.REQUIRED and (
            not image_model.supports_edits
        ):
            self.add_error("references", f"{image_model} takes no reference images.")

    def check_qualities(self, cleaned: dict[str, Any], image_model: ImageModel) -> None:
        qualities = cleaned.get("qualities")
        if qualities is None:
            return
        unknown = [quality for quality in qualities if quality not in image_model.qualities]
        if unknown:
            self.add_error(
                "qualities",
                f"{image_model} does not take {', '.join(unknown)}: "
                f"use {', '.join(image_model.qualities)}.",
            )
        default = cleaned.get("default_quality")
        offered = qualities or image_model.qualities
        if default and default not in offered:
            self.add_error("default_quality", f"Pick one of the qualities: {', '.join(offered)}.")

    def check_defaults(self, cleaned: dict[str, Any]) -> None:
        sizes = cleaned.get("sizes") or {}
        ratio, resolution = cleaned.get("default_aspect_ratio"), cleaned.get("default_resolution")
        if ratio and ratio not in sizes:
            self.add_error(
                "default_aspect_ratio", f"Pick one of the aspect ratios: {', '.join(sizes)}."
            )
        elif ratio and resolution and resolution not in sizes[ratio]:
            self.add_error(
                "default_resolution",
                f"With {ratio} the table offers {', '.join(sizes[ratio])}.",
            )
