"""The ledger import page's form (templates/reports/import.html)."""
from __future__ import annotations

from flask_wtf.file import FileField

from hotline.forms import Form, text


class ImportForm(Form):
    file = FileField()
    action = text(default=None)  # "import" stores the rows; anything else only checks them
