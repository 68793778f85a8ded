"""Real ``hotrod backend`` processes, started by ``tests/backend``'s own fixture."""

from tests.backend.conftest import start_backend  # noqa: F401 - a fixture, found here by pytest
