"""Keep the collection Streamlit runs after every script run cheap.

Streamlit calls `gc.collect(2)` at the end of each run (`runner.postScriptGC`), which walks
every object the process holds: the Altair schema, Streamlit, polars, DuckDB and geopandas
modules, some 150 000 objects, 80–300 ms on this machine. It holds the GIL meanwhile, so the
run's `script_finished` message waits for it. Those objects live as long as the server does;
after a page has run once they are moved out of the collector's reach (`gc.freeze`), and the
per-run collection only walks what later runs create, which it still frees.
"""

from __future__ import annotations

import atexit
import gc
import threading

_frozen: set[str] = set()
_lock = threading.Lock()


def freeze_after_first_run(page: str) -> bool:
    """Collect, then freeze the survivors, once per page per process (its imports and caches
    are loaded by then). True when this call froze."""
    with _lock:
        if page in _frozen:
            return False
        gc.collect()  # garbage must not become immortal
        gc.freeze()
        if not _frozen:
            # Frozen objects escape the collection at interpreter exit, and native modules
            # then report them as leaked.
            atexit.register(gc.unfreeze)
        _frozen.add(page)
        return True
