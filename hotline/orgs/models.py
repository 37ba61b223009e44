"""The organisation tree: each organisation owns departments, users, programmes and cases."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db

ROOT_ID = 1  # the city's 12351 centre; the migration creates it, so existing rows can default to it
DIGEST_SCOPES = ("subtree", "all")  # a programme's digest draws from its organisation's subtree, or everything


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Materialised path of ids, "/1/4/": a subtree is one prefix match, and the tree is never deep.
    path: Mapped[str] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Settings. The registering level closes its cases and does the 回访 unless it delegates both
    # to the level that replied.
    delegate_closure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    digest_scope: Mapped[str] = mapped_column(String(8), default="subtree", server_default="subtree")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2
