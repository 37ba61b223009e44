"""The knowledge editor's form (templates/knowledge/form.html); the service checks and words every field."""
from __future__ import annotations

from hotline.forms import Form, text


class ArticleForm(Form):
    title = text()
    question = text()
    answer = text()
    category = text()
    legal_basis = text()
    valid_from = text()
    valid_to = text()
    version = text(default=None)

    FIELDS = ("title", "question", "answer", "category", "legal_basis", "valid_from", "valid_to")

    def article(self) -> dict[str, str]:
        return {name: self[name].data for name in self.FIELDS}


class VersionForm(Form):
    """A step on an article (review, publish): the version the page showed."""

    version = text(default=None)
