from django import forms

from playground.apikeys.models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = [
            "name",
            "cap_usd_per_hour",
            "cap_usd_per_day",
            "cap_usd_total",
            "allowed_networks",
        ]
        widgets = {"allowed_networks": forms.Textarea(attrs={"rows": 3})}

    def clean_allowed_networks(self) -> str:
        # Kept as typed, one per line, so the page shows what the person wrote.
        value = self.cleaned_data["allowed_networks"] or ""
        return "\n".join(
            line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()
        )
