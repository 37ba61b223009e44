"""Migration files list in the order they run: `ls migrations/versions` reads as the chain."""
from pathlib import Path

from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_listing_order_is_chain_order():
    scripts = ScriptDirectory(str(MIGRATIONS))
    assert len(scripts.get_heads()) == 1, "one linear chain"
    chain = [Path(s.path).name for s in reversed(list(scripts.walk_revisions()))]
    listed = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    assert listed == chain, "rename the files (date, then a two-digit step) so that listing order is chain order"
