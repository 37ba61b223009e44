"""What registering a case means for intake help, called once by the case service after it registers one."""
from __future__ import annotations

from typing import Any

from hotline.auth.models import User
from hotline.cases.models import Case


def after_register(actor: User | None, case: Case, data: dict[str, Any]) -> None:
    from hotline.knowledge import group, service

    group.after_register(case)  # 群体性预警
    article = data.get("knowledge_article")
    if article:  # 使用此答复 on the form: link the article and count its use
        service.record_use(actor, article, case)
