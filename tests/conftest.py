"""Shared pytest fixtures. Keep fixtures in their own modules and import them here."""

from tests.cbs_server import cbs_server  # noqa: F401  (fixture: loopback CBS OData server)
from tests.dashboard_fixtures import demo_db, make_app  # noqa: F401  (dashboard tests)
