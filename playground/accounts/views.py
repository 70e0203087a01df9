"""Sign-in and password reset pages; reset is offered only when a mail server is configured."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect


def password_reset_offered() -> bool:
    """Read per request, not at import, so that a test can switch mail on and off."""
    return bool(getattr(settings, "EMAIL_CONFIGURED", False))


def only_with_mail(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Without a mail server a reset could never arrive: the reset pages do not exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not password_reset_offered():
            raise Http404("Password reset is not offered: no mail server is configured.")
        return view(request, *args, **kwargs)

    return wrapped


class SiteLoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["password_reset_offered"] = password_reset_offered()
        return context


class SitePasswordResetForm(PasswordResetForm):
    # A text box styled like the site's others; inputmode still brings up an e-mail keyboard.
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


class SitePasswordResetView(auth_views.PasswordResetView):
    """Links in the mail point at PUBLIC_BASE_URL when it is set, not at the request's host."""

    form_class = SitePasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        base = urlsplit(settings.PUBLIC_BASE_URL)
        form.save(
            domain_override=base.netloc or None,
            use_https=base.scheme == "https" if base.netloc else self.request.is_secure(),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        # Whether or not an account has this address: the same next page either way.
        return HttpResponseRedirect(self.get_success_url())
