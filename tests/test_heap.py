"""dashboard/heap.py: the per-run collection walks only what later runs create."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.browser_fixtures import ROOT


def test_freeze_once_per_page_then_cheap_collections_still_free_garbage() -> None:
    # A child process: freezing this test process's heap would change every later test.
    code = textwrap.dedent("""
        import gc, weakref
        from dashboard import heap
        keep = [[i] for i in range(50_000)]
        assert heap.freeze_after_first_run("kaart") is True
        assert heap.freeze_after_first_run("kaart") is False
        assert heap.freeze_after_first_run("sql") is True
        frozen = gc.get_freeze_count()
        assert frozen >= 50_000, frozen
        class Node: pass
        a, b = Node(), Node(); a.other, b.other = b, a
        ref = weakref.ref(a); del a, b
        assert ref() is not None
        gc.collect(2)
        assert ref() is None, "cyclic garbage made after the freeze must still be collected"
        print("ok", frozen)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert "leaked" not in out.stderr
