"""The shape of the code holds (docs/architecture.md §8): the import contracts in .importlinter, and the one
schema of case events that the writer checks and the timeline reads."""
from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cases import events

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(capsys, monkeypatch):
    """Features build on the case register (which imports none of them) and no module imports a door."""
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 broken" in out


def test_the_writer_refuses_a_payload_the_timeline_could_not_read():
    assert events.payload("reply", content="已答复", method="phone", on_time=True,
                          before={"status": "accepted"}, after={"status": "replied"})
    with pytest.raises(ValueError):
        events.payload("reply", contnet="typo")
    with pytest.raises(KeyError):
        events.payload("no_such_kind")


def test_the_reader_splits_texts_changes_and_facts():
    reading = events.read("register", {"status": "closed", "via": "import", "resolved_on_call": True,
                                       "reply_due_at": "2026-12-01T09:00:00+00:00", "file": "台账.xlsx"})
    assert reading.facts == [("via", "import"), ("resolved_on_call", True), ("file", "台账.xlsx")]
    reading = events.read("overdue", {"deadline": "reply", "due_at": "2026-12-01T09:00:00+00:00"})
    assert reading.facts == [("reply_due_at", "2026-12-01T09:00:00+00:00")]
    reading = events.read("merge", {"into": "20261201-0001", "before": {"status": "registered"},
                                    "after": {"status": "closed"}})
    assert reading.changes == [("status", "registered", "closed")] and reading.links == {"into": "20261201-0001"}
    reading = events.read("call", {"call": "CA1", "wait_seconds": 12, "talk_seconds": 80})
    assert reading.facts == [("wait_seconds", 12), ("talk_seconds", 80)]
