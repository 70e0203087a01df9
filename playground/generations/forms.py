"""The generate form: the Images API parameters the chosen model takes, checked before queuing."""

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator

from playground.catalog import spec
from playground.catalog.models import ImageModel

MAX_PROMPT_CHARS = spec.MAX_PROMPT_CHARS
PARAM_FIELDS = (
    "quality",
    "n",
    "output_format",
    "output_compression",
    "background",
    "moderation",
    "input_fidelity",
    "partial_images",
)
LABELS = {
    "auto": "Auto",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "xhigh": "Extra high",
    "max": "Max",
    "opaque": "Opaque",
    "transparent": "Transparent",
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WebP",
}


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(value, LABELS.get(value, value)) for value in values]


class SizePicker(forms.TextInput):
    """The size as choices with an aspect-ratio icon (the template draws them as radios named
    `size`); free W x H sizes through a "Custom" choice when the model takes them."""

    ICON = 18  # the icon's longer side, in SVG units

    def __init__(self, sizes: list[str], free_size: bool) -> None:
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false"})
        self.sizes = sizes
        self.free_size = free_size

    def options(self) -> list[dict[str, Any]]:
        """One entry per preset: value, shape name, pixel label and icon box."""
        result = []
        for size in self.sizes:
            width, _, height = size.partition("x")
            if not (width.isdigit() and height.isdigit()):
                result.append({"value": size, "shape": "Auto", "pixels": "auto", "auto": True})
                continue
            w, h = int(width), int(height)
            shape = "Square" if w == h else "Landscape" if w > h else "Portrait"
            scale = self.ICON / max(w, h)
            icon_w, icon_h = max(4, round(w * scale)), max(4, round(h * scale))
            result.append(
                {
                    "value": size,
                    "shape": shape,
                    "pixels": f"{w}\u00d7{h}",
                    "icon_x": (24 - icon_w) / 2,
                    "icon_y": (24 - icon_h) / 2,
                    "icon_w": icon_w,
                    "icon_h": icon_h,
                }
            )
        return result


class GenerationForm(forms.Form):
    model = forms.ChoiceField(
        label="Model",
        error_messages={
            "invalid_choice": "Unknown model %(value)s: choose one of the models in the list."
        },
    )
    prompt = forms.CharField(
        label="Prompt",
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Describe the image you want"}),
        error_messages={"required": "Write a prompt describing the image."},
    )
    size = forms.CharField(label="Size", max_length=20)
    quality = forms.ChoiceField(label="Quality")
    n = forms.IntegerField(label="Images", min_value=1, initial=1)
    output_format = forms.ChoiceField(label="Format")
    output_compression = forms.IntegerField(
        label="Compression (%)", min_value=0, max_value=100, required=False
    )  # the limits of spec.ImageParams.output_compression
    background = forms.ChoiceField(label="Background")
    moderation = forms.ChoiceField(label="Moderation")
    input_fidelity = forms.ChoiceField(
        label="Input fidelity",
        required=False,
        help_text="How closely an edit keeps the details (faces, logos) of the references.",
    )
    partial_images = forms.TypedChoiceField(
        label="Live previews",
        coerce=int,
        required=False,
        choices=[(0, "Off")]
        + [(k, f"{k} preview{'s' * (k > 1)}") for k in range(1, spec.MAX_PARTIAL_IMAGES + 1)],
        initial=0,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Errors of the references and the mask, which are files rather than form fields.
        self.reference_errors: dict[str, list[str]] = {}
        self.models = list(ImageModel.objects.active())
        self.fields["model"].choices = [(m.model_id, m.label) for m in self.models]
        self.image_model = self._chosen_model()
        # An unknown model is reported on its field; the other fields use the first model.
        self._fit_fields_to(self.image_model or (self.models[0] if self.models else None))

    def _chosen_model(self) -> ImageModel | None:
        wanted = (self.data.get("model") if self.is_bound else None) or self.initial.get("model")
        by_id = {m.model_id: m for m in self.models}
        if wanted in by_id:
            return by_id[wanted]
        if self.is_bound:
            # An unknown or retired model: the field's own validation reports it. Compared in
            # Python: a lookup would send whatever was posted (NUL bytes too) to the database.
            retired = ImageModel.objects.exclude(status=ImageModel.Status.ACTIVE)
            if wanted in set(retired.values_list("model_id", flat=True)):
                self.fields["model"].error_messages["invalid_choice"] = (
                    f"{wanted} is retired and no longer offered; choose another model."
                )
            return None
        return self.models[0] if self.models else None

    def _fit_fields_to(self, model: ImageModel | None) -> None:
        if model is None:
            return
        self.fields["quality"].choices = _choices(model.qualities)
        self.fields["output_format"].choices = _choices(model.output_formats)
        self.fields["background"].choices = _choices(model.backgrounds)
        self.fields["moderation"].choices = _choices(model.moderations)
        self.fields["n"].validators.append(
            MaxValueValidator(
                model.max_n, f"{model.model_id} makes at most {model.max_n} images per request."
            )
        )
        self.fields["n"].widget.attrs.update({"min": 1, "max": model.max_n})
        self.fields["size"].widget = SizePicker(model.sizes, bool(model.free_size))
        if not model.supports_streaming:
            del self.fields["partial_images"]
        if model.input_fidelities:
            choices = _choices(model.input_fidelities)
            self.fields["input_fidelity"].choices = [("", "Default"), *choices]
        else:
            del self.fields["input_fidelity"]  # e.g. gpt-image-2: always high fidelity
        if not self.is_bound:
            self.initial.setdefault("model", model.model_id)
            self.initial.setdefault("size", model.default_size)
            self.initial.setdefault("quality", "auto" if "auto" in model.qualities else "")
            self.initial.setdefault("output_format", "png")
            self.initial.setdefault("background", "auto")
            self.initial.setdefault("moderation", "auto")
            self.initial.setdefault("n", 1)
            self._drop_unsupported_initial(model)

    def _drop_unsupported_initial(self, model: ImageModel) -> None:
        """When the model changes, keep the values it takes and reset the others."""
        supported = {
            "quality": model.qualities,
            "output_format": model.output_formats,
            "background": model.backgrounds,
            "moderation": model.moderations,
        }
        for name, values in supported.items():
            if self.initial.get(name) not in values and values:
                self.initial[name] = "auto" if "auto" in values else values[0]
        if model.size_error(str(self.initial.get("size", ""))):
            self.initial["size"] = model.default_size

    def param_fields(self) -> list[forms.BoundField]:
        """The parameter controls under size, in display order (those this model takes)."""
        return [self[name] for name in PARAM_FIELDS if name in self.fields]

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"]
        if len(prompt) > MAX_PROMPT_CHARS:
            raise forms.ValidationError(
                f"The prompt is {len(prompt):,} characters long; the limit is {MAX_PROMPT_CHARS:,}."
            )
        return prompt

    def clean_size(self) -> str:
        size = (
            self.cleaned_data["size"].strip().lower().replace(" ", "").replace("\u00d7", "x")
        )  # a pasted multiplication sign
        if self.image_model and (error := self.image_model.size_error(size)):
            raise forms.ValidationError(error)
        return size

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The rules between format, compression and background, as every API checks them.
        for name, message, _code in spec.output_problems(
            cleaned.get("output_format"),
            cleaned.get("output_compression"),
            cleaned.get("background"),
        ):
            self.add_error(name, message)
        return cleaned

    def upstream_params(self, is_edit: bool = False) -> dict[str, Any]:
        """The parameters to send: only those the model takes, never an empty one."""
        data = self.cleaned_data
        params: dict[str, Any] = {
            "model": data["model"],
            "prompt": data["prompt"],
            "n": data["n"],
            "size": data["size"],
            "quality": data["quality"],
            "output_format": data["output_format"],
            "background": data["background"],
            "moderation": data["moderation"],
        }
        if data.get("output_compression") is not None:
            params["output_compression"] = data["output_compression"]
        if data.get("partial_images"):
            params["partial_images"] = data["partial_images"]
        if is_edit:
            del params["moderation"]  # the edits endpoint takes no moderation setting
            if data.get("input_fidelity"):
                params["input_fidelity"] = data["input_fidelity"]
        return params
