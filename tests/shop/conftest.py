"""The shop tests use the e2e community fixture (`gc`) for their sandbox tests."""

from tests.e2e.conftest import gc  # noqa: F401 (a fixture, found by name)
