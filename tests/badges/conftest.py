"""The e2e fixtures (the `gc` community) for the badges tests."""

from tests.e2e.conftest import gc  # noqa: F401 - a fixture
