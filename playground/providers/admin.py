from django import forms
from django.contrib import admin

from playground.providers.models import Provider


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False, assume_scheme="https", help_text="Empty for OpenAI's own endpoint."
    )
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored key. Stored encrypted; shown only masked.",
    )

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "new_api_key", "is_default", "is_enabled"]

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        if key := self.cleaned_data.get("new_api_key"):
            provider.set_api_key(key)
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "kind", "base_url", "masked_key", "is_default", "is_enabled"]
    readonly_fields = ["masked_key"]
