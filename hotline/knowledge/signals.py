"""What registering a case means for intake help (hotline/cases/signals.py): connected once at start-up."""
from __future__ import annotations

from typing import Any

from hotline.auth.models import User
from hotline.cases import signals
from hotline.cases.models import Case
from hotline.knowledge import group, service


def connect() -> None:
    signals.registered.connect(after_register)


def after_register(case: Case, *, actor: User | None, data: dict[str, Any], **_ignored: Any) -> None:
    group.after_register(case)  # 群体性预警
    article = data.get("knowledge_article")
    if article:  # 使用此答复 on the form: link the article and count its use
        service.record_use(actor, article, case)
