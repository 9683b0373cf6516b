"""Shared pytest fixtures. Keep fixtures in their own modules and import them here."""

from tests.browser_fixtures import (  # noqa: F401  (browser tests)
    app_server,
    browser_context_args,
    browser_type_launch_args,
)
from tests.cbs_server import cbs_server  # noqa: F401  (fixture: loopback CBS OData server)
from tests.dashboard_fixtures import demo_db, make_app  # noqa: F401  (dashboard tests)
from tests.rechtspraak_server import (  # noqa: F401  (loopback Rechtspraak server)
    rechtspraak_server,
)
