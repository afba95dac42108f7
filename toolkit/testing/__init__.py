"""Contract suites for plugin authors: the rules a source, embedder or sink must keep, as plain
checks that return what is broken (no test framework needed), so `vtembed plugins check` and a
plugin's own tests run the same rules.

    from vtembed.testing import check_sink
    assert not check_sink(MySink, lambda: str(tmp_path / "store")).broken

`vtembed.testing.suites` wraps the same rules as pytest base classes to subclass.
"""

from __future__ import annotations

from vtembed.testing.embedder_rules import check_embedder
from vtembed.testing.rules import Outcome, Report
from vtembed.testing.sink_rules import check_sink
from vtembed.testing.source_rules import check_source

__all__ = ["Outcome", "Report", "check_embedder", "check_sink", "check_source"]
