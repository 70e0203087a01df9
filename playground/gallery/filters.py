"""The gallery's filters: GET parameters read by one form, applied to an owner's images.

Every value comes from a URL anyone can edit, so each field is checked and a bad one is
named in a message and left out; the valid ones still apply.
"""

from contextlib import suppress
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from playground.catalog.models import ImageModel
from playground.gallery.models import ImageQuerySet
from playground.generations.models import Generation

SEARCH_MAX_CHARS = 200
SORTS = {"newest": "Newest first", "oldest": "Oldest first"}
ANY = [("", "Any")]


class GalleryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search prompts",
        required=False,
        max_length=SEARCH_MAX_CHARS,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "A word of the prompt…"}),
        error_messages={"max_length": f"Search at most {SEARCH_MAX_CHARS} characters."},
    )
    model = forms.ChoiceField(
        label="Model",
        required=False,
        error_messages={"invalid_choice": "Unknown model: choose one from the list."},
    )
    operation = forms.ChoiceField(
        label="Operation",
        required=False,
        choices=ANY + list(Generation.Operation.choices),
        error_messages={"invalid_choice": "Choose generate or edit."},
    )
    quality = forms.ChoiceField(
        label="Quality",
        required=False,
        error_messages={"invalid_choice": "Unknown quality: choose one from the list."},
    )
    state = forms.ChoiceField(
        label="Job state",
        required=False,
        choices=ANY + list(Generation.State.choices),
        error_messages={"invalid_choice": "Unknown job state: choose one from the list."},
    )
    favourites = forms.BooleanField(label="Favourites only", required=False)
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=list(SORTS.items()),
        error_messages={"invalid_choice": "Sort by newest or oldest."},
    )

    def __init__(self, data: Any, catalog: list[ImageModel]) -> None:
        super().__init__(data)
        self.fields["model"].choices = ANY + [(m.model_id, m.label) for m in catalog]
        qualities = dict.fromkeys(q for m in catalog for q in m.qualities)
        self.fields["quality"].choices = ANY + [(q, q) for q in qualities]
        # "from" is a Python keyword, so the date fields are added by name here.
        date_error = {"invalid": "Enter a date as YYYY-MM-DD."}
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages=date_error,
            )
        self.order_fields(
            ["q", "model", "operation", "quality", "state", "from", "to", "favourites", "sort"]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "The end date is before the start date.")
            cleaned.pop("from", None)
        return cleaned

    @property
    def usable(self) -> dict[str, Any]:
        """The values that passed their checks; a bad field is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}

    @property
    def chosen_sort(self) -> str:
        return self.usable.get("sort") or "newest"

    def error_list(self) -> list[str]:
        """Each problem as "Field: reason", for a summary next to the results."""
        return [
            f"{self.fields[name].label}: {message}"
            for name, messages in self.errors.items()
            for message in messages
        ]

    def query_items(self) -> list[tuple[str, str]]:
        """The usable filters as they were sent, to carry into pagination links."""
        usable = self.usable
        return [(name, str(self.data.get(name, ""))) for name in self.fields if name in usable]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def apply_filters(images: ImageQuerySet, values: dict[str, Any]) -> ImageQuerySet:
    """The images matching the usable filter values (as `GalleryFilterForm.usable` gives)."""
    if text := values.get("q"):
        # icontains escapes % and _ and is case-insensitive on SQLite and PostgreSQL alike.
        images = images.filter(
            Q(generation__prompt__icontains=text) | Q(revised_prompt__icontains=text)
        )
    if model := values.get("model"):
        images = images.filter(generation__model=model)
    if operation := values.get("operation"):
        images = images.filter(generation__operation=operation)
    if quality := values.get("quality"):
        images = images.filter(generation__params__quality=quality)
    if state := values.get("state"):
        images = images.filter(generation__state=state)
    if values.get("favourites"):
        images = images.filter(favourite=True)
    # Day bounds at the edges of the calendar (0001-01-01, 9999-12-31) overflow: no bound then.
    if start := values.get("from"):
        with suppress(OverflowError):
            images = images.filter(created_at__gte=_day_start(start))
    if end := values.get("to"):
        with suppress(OverflowError):
            images = images.filter(created_at__lt=_day_start(end + timedelta(days=1)))
    return images
