from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from playground.gallery.models import Image
from playground.sharing.services import MAX_IMAGES

EXPIRY_CHOICES = [
    ("never", "Never"),
    ("day", "A day"),
    ("week", "A week"),
    ("month", "A month"),
    ("date", "On a date"),
]
EXPIRY_DURATIONS = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
MAX_ID = 2**63 - 1  # larger numbers can name no row and would overflow the database's integers


class ImageIdsField(forms.Field):
    """Repeated `image` values: ids of images, in the order given, each once."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        ids: list[int] = []
        for item in value if isinstance(value, list | tuple) else [value]:
            text = str(item).strip()
            if not text.isdigit() or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(f"{text[:20]!r} is not an image id.", code="invalid")
            ids.append(int(text))
        return list(dict.fromkeys(ids))


class ShareForm(forms.Form):
    """What the Share dialog posts; the images are checked against `owner`."""

    image = ImageIdsField(
        error_messages={"required": "Choose at least one image to share."},
    )
    expiry = forms.ChoiceField(
        choices=EXPIRY_CHOICES,
        initial="never",
        error_messages={
            "required": "Choose when the link expires.",
            "invalid_choice": "Choose never, a day, a week, a month or a date.",
        },
    )
    # Read only when expiry is "date": a value left behind by another choice is no error.
    expires_on = forms.CharField(required=False, max_length=40, strip=True)
    show_details = forms.BooleanField(required=False)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_image(self) -> list[Image]:
        ids: list[int] = self.cleaned_data["image"]
        if len(ids) > MAX_IMAGES:
            raise forms.ValidationError(f"A link holds at most {MAX_IMAGES} images.")
        found = Image.objects.for_user(self.owner).in_bulk(ids)
        if len(found) != len(ids):
            raise forms.ValidationError("Only your own images can be shared.")
        return [found[pk] for pk in ids]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        expiry = cleaned.get("expiry")
        cleaned["expires_at"] = None
        if expiry in EXPIRY_DURATIONS:
            cleaned["expires_at"] = timezone.now() + EXPIRY_DURATIONS[expiry]
        elif expiry == "date":
            day = self._expiry_date(cleaned.get("expires_on", ""))
            if day is not None:
                # The link stops working as that day begins, in the site's time zone.
                cleaned["expires_at"] = timezone.make_aware(datetime.combine(day, time.min))
        return cleaned

    def _expiry_date(self, text: str) -> date | None:
        if not text:
            self.add_error("expires_on", "Choose the date the link expires.")
            return None
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            self.add_error("expires_on", "Enter a date as YYYY-MM-DD.")
            return None
        if day <= timezone.localdate():
            self.add_error("expires_on", "The date must be after today.")
            return None
        return day
