"""The Chinese catalogue covers every string the code and templates show, and pages come out in Chinese."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "hotline" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_msgids() -> set[str]:
    found = set()
    method_map = [("hotline/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS, options_map={"templates/**.html": {}}):
        found.add(message[0] if isinstance(message, (tuple, list)) else message)
    return found


def test_every_string_has_a_chinese_translation():
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(msgid for msgid in source_msgids() if msgid not in translated
                     or not translated[msgid].string or translated[msgid].fuzzy
                     or (isinstance(translated[msgid].string, tuple) and not all(translated[msgid].string)))
    assert missing == [], f"{len(missing)} strings without a Chinese translation, e.g. {missing[:10]}"


def test_pages_are_chinese_by_default_and_english_on_request(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
