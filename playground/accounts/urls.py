"""Django's auth URLs (same names), with the site's login page and reset only when mail works."""

from django.contrib.auth import views as auth_views
from django.urls import path

from playground.accounts.views import SiteLoginView, SitePasswordResetView, only_with_mail

urlpatterns = [
    path("login/", SiteLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password_reset/",
        only_with_mail(SitePasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        only_with_mail(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        only_with_mail(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        only_with_mail(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]
