"""wmo-atlas dashboard: `streamlit run dashboard/app.py`. Reads only the DuckDB file in WMO_DB.

One thin file per page in `app_pages/`; the logic lives in `views/` and the shared modules,
which tests import without Streamlit.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts the script's folder on sys.path, not the project root that holds `dashboard`.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Altair serialises dates through pandas when it finds it in sys.modules, including a pandas
# still half-imported by another session's first run (AttributeError under concurrent first
# loads). Importing it here makes every session wait for the complete module.
import pandas  # noqa: E402, F401
import streamlit as st  # noqa: E402
from streamlit.runtime.scriptrunner_utils.exceptions import StopException  # noqa: E402

from dashboard.chrome import hide_chart_toolbars  # noqa: E402
from dashboard.heap import freeze_after_first_run  # noqa: E402
from dashboard.i18n import tr  # noqa: E402
from dashboard.ui import begin_url_run, commit_url, current_lang  # noqa: E402

st.set_page_config(page_title="wmo-atlas", page_icon="🗺️", layout="wide")
hide_chart_toolbars()

# Before the titles: a language switch has already run its callback, so the sidebar changes
# language in the same run as the page.
lang = current_lang()
PAGES = [
    # (file, url path, title key, icon); the first page is the default one, served at `/`.
    # No icons: a Material icon is its name as text, which copy-paste picks up.
    ("kaart", "kaart", "page_kaart", None),
    ("vergelijken", "vergelijken", "page_vergelijken", None),
    ("werkwijze", "werkwijze", "page_werkwijze", None),
    ("bezwaar", "bezwaar", "page_bezwaar", None),
    ("rechtspraak", "rechtspraak", "page_rechtspraak", None),
    ("gemeente", "gemeente", "page_gemeente", None),
    ("data", "data", "page_data", None),
    ("sql", "sql", "page_sql", None),
    ("over", "over", "page_over", None),
]
pages = {
    name: st.Page(f"app_pages/{name}.py", title=tr(title, lang), icon=icon, url_path=url,
                  default=(i == 0))
    for i, (name, url, title, icon) in enumerate(PAGES)
}
page = st.navigation(list(pages.values()))
begin_url_run(next(n for n, p in pages.items() if p.url_path == page.url_path))
try:
    page.run()
except StopException:  # a page that stops early still owns its URL
    commit_url()
    raise
commit_url()  # not after st.switch_page: the page it opens writes the URL
freeze_after_first_run(page.url_path)
