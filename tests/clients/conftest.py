"""Clients written elsewhere, against the live server: the API tests' worker and API key."""

from tests.api.conftest import secret, worker  # noqa: F401 -- the same fixtures as the API tests
