"""The SMS templates page's form (templates/notify/sms_templates.html): each template's text and gateway id."""
from __future__ import annotations

from hotline.forms import fields_form
from hotline.notify.templates import CATALOGUE

TemplatesForm = fields_form("TemplatesForm", [f"{kind}_{code}" for code in CATALOGUE for kind in ("text", "gateway")])
