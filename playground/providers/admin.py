from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from playground.audit.log import record
from playground.audit.models import AuditEvent
from playground.providers.addresses import PrivateAddress, check_base_url
from playground.providers.client import list_models
from playground.providers.errors import UpstreamError
from playground.providers.models import Provider

# Fields whose change sends the stored key somewhere else: the key must be typed again.
KEY_BOUND_FIELDS = ("base_url", "kind")
KEY_BOUND_LABELS = {"base_url": "base URL", "kind": "kind"}


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False, assume_scheme="https", help_text="Empty for OpenAI's own endpoint."
    )
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored key. Stored encrypted; shown only masked. "
        "Required again when the base URL or the kind changes.",
    )

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "new_api_key", "is_default", "is_enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("is_default") and not data.get("is_enabled"):
            self.add_error("is_default", "A disabled provider cannot be the default.")
        moved = [name for name in KEY_BOUND_FIELDS if name in self.changed_data]
        if (
            self.instance.pk
            and self.instance.api_key_encrypted
            and moved
            and not data.get("new_api_key")
        ):
            labels = " and ".join(KEY_BOUND_LABELS[name] for name in moved)
            self.add_error(
                "new_api_key",
                f"The {labels} changed: type the API key again, so the stored key is never "
                "sent to an address it was not entered for.",
            )
        if "base_url" in data:  # not when the field already failed its own checks
            try:
                check_base_url(data["base_url"], offline=data.get("kind") == Provider.Kind.OFFLINE)
            except PrivateAddress as error:
                self.add_error("base_url", str(error))
        return data

    def _get_validation_exclusions(self) -> set[str]:
        # Ticking default on a second provider is valid: saving unticks the old one in the
        # same transaction, and the database constraint still guards the result.
        return {*super()._get_validation_exclusions(), "is_default"}

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        if key := self.cleaned_data.get("new_api_key"):
            provider.set_api_key(key)
        if commit:
            provider.save()
        return provider


def _month_start() -> Any:
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _spend(condition: Q | None = None) -> Coalesce:
    total = Sum("generation__actual_usd", filter=condition)
    return Coalesce(
        total, Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=6)
    )


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = [
        "name",
        "kind",
        "base_url",
        "masked_key",
        "is_default",
        "is_enabled",
        "spend_month_to_date",
        "spend_total",
    ]
    readonly_fields = ["masked_key"]
    actions = ["test_connection", "enable_providers", "disable_providers"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                spent_total=_spend(),
                spent_month=_spend(Q(generation__created_at__gte=_month_start())),
            )
        )

    @admin.display(description="Spend this month (USD)", ordering="spent_month")
    def spend_month_to_date(self, obj: Provider) -> str:
        return f"{getattr(obj, 'spent_month', 0) or 0:.2f}"

    @admin.display(description="Spend in total (USD)", ordering="spent_total")
    def spend_total(self, obj: Provider) -> str:
        return f"{getattr(obj, 'spent_total', 0) or 0:.2f}"

    # -- loud reports of keys SECRET_KEY can no longer read ---------------------------------
    def _warn_unreadable(self, request: HttpRequest) -> None:
        if request.method != "GET":
            return
        for provider in Provider.objects.exclude(api_key_encrypted="").order_by("name"):
            if provider.key_unreadable:
                messages.error(
                    request,
                    f"The key of provider {provider.name} cannot be decrypted: enter it again.",
                )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        self._warn_unreadable(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        self._warn_unreadable(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    # -- saving: one default, and an audit event for every change ---------------------------
    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        with transaction.atomic():
            if obj.is_default:
                # Untick the old default first, in this transaction: the constraint holds.
                others = Provider.objects.filter(is_default=True)
                if obj.pk:
                    others = others.exclude(pk=obj.pk)
                others.update(is_default=False)
            super().save_model(request, obj, form, change)
            fields = ["api key" if name == "new_api_key" else name for name in form.changed_data]
            if not change:
                record(AuditEvent.Action.CREATED, obj, request=request, details={"fields": fields})
                return
            if fields:
                record(AuditEvent.Action.CHANGED, obj, request=request, details={"fields": fields})
            if "new_api_key" in form.changed_data:
                record(AuditEvent.Action.ROTATED, obj, request=request, details={"by": "admin"})
            if "is_enabled" in form.changed_data:
                action = AuditEvent.Action.ENABLED if obj.is_enabled else AuditEvent.Action.DISABLED
                record(action, obj, request=request)

    def delete_model(self, request: HttpRequest, obj: Provider) -> None:
        with transaction.atomic():
            record(AuditEvent.Action.DELETED, obj, request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        with transaction.atomic():
            for provider in queryset:
                record(AuditEvent.Action.DELETED, provider, request=request)
            # A plain queryset: the spend annotations have no place in a DELETE.
            super().delete_queryset(request, Provider.objects.filter(pk__in=queryset.values("pk")))

    # -- test connection: an action on the list, a button on the change page ---------------
    def get_urls(self) -> list[URLPattern]:
        button = path(
            "<path:object_id>/test-connection/",
            self.admin_site.admin_view(require_POST(self.test_connection_view)),
            name="providers_provider_test_connection",
        )
        return [button, *super().get_urls()]

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        provider = get_object_or_404(Provider, pk=object_id)
        if not self.has_change_permission(request, provider):
            raise PermissionDenied
        self._test(request, provider)
        return HttpResponseRedirect(reverse("admin:providers_provider_change", args=[provider.pk]))

    @admin.action(description="Test connection (lists the provider's models)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            self._test(request, provider)

    def _test(self, request: HttpRequest, provider: Provider) -> None:
        """The cheapest real call; its result in plain words, and an audit event."""
        try:
            models = list_models(provider)
        except UpstreamError as error:
            messages.error(request, f"{provider.name}: {error.message}")
            record(
                AuditEvent.Action.TESTED,
                provider,
                request=request,
                details={"result": error.outcome, "status": error.status},
            )
            return
        messages.success(
            request,
            f"{provider.name}: connection works ({len(models)} model"
            f"{'s' if len(models) != 1 else ''} available).",
        )
        record(AuditEvent.Action.TESTED, provider, request=request, details={"result": "ok"})

    @admin.action(description="Enable selected providers")
    def enable_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        with transaction.atomic():
            for provider in queryset.filter(is_enabled=False):
                Provider.objects.filter(pk=provider.pk).update(is_enabled=True)
                record(AuditEvent.Action.ENABLED, provider, request=request)
        messages.success(request, "The selected providers are enabled.")

    @admin.action(description="Disable selected providers")
    def disable_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        with transaction.atomic():
            for provider in queryset.filter(is_enabled=True):
                # A disabled provider cannot stay the default.
                Provider.objects.filter(pk=provider.pk).update(is_enabled=False, is_default=False)
                record(AuditEvent.Action.DISABLED, provider, request=request)
        messages.success(request, "The selected providers are disabled.")
