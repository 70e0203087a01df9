from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class BudgetSettings(models.Model):
    """Site-wide budget defaults (a single row)."""

    default_monthly_usd = models.DecimalField(
        "default monthly budget (USD)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="For users without a budget of their own. Empty: no limit.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "budget settings"

    def __str__(self) -> str:
        return "Budget settings"

    @classmethod
    def current(cls) -> "BudgetSettings":
        return cls.objects.get_or_create(pk=1)[0]


class UserBudget(models.Model):
    """A user's own monthly spending limit, overriding the default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budget"
    )
    monthly_usd = models.DecimalField(
        "monthly budget (USD)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Empty: no limit for this user (the default does not apply).",
    )

    def __str__(self) -> str:
        return f"budget of {self.user}"


def monthly_budget_for(user: object) -> Decimal | None:
    """The user's monthly budget: their own if set, else the default; None means no limit."""
    own = UserBudget.objects.filter(user=user).first()
    if own is not None:
        return own.monthly_usd
    return BudgetSettings.current().default_monthly_usd
