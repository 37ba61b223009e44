"""The pull formats of a digest: JSON (architecture §6), plain text, .docx and the Atom feed.

They all render `service.view(...)`: the current revision, already anonymised when it was built (and
again when a producer edited a 热线问答 text), so no format can show more than the page does.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree as ET

from hotline.dates import local_iso
from hotline.digest import builder
from hotline.digest.settings import WEEKDAYS
from hotline.text import xml_safe

STATUS_ZH = {"draft": "草稿", "approved": "已审定", "aired": "已播出"}
REASONS_ZH = {"over_slot": "超出时段", "dropped": "编辑撤下"}
ATOM = "http://www.w3.org/2005/Atom"


def reason_text(item: dict[str, Any]) -> str:
    if item.get("reason") == "over_slot":
        return f"{REASONS_ZH['over_slot']}（多{builder.mmss(item.get('over_seconds') or 0)}）"
    return REASONS_ZH.get(item.get("reason"), item.get("reason") or "")


def to_dict(v: dict[str, Any]) -> dict[str, Any]:
    digest, rev = v["digest"], v["revision"]
    return {
        "date": digest.air_date.isoformat(),
        "status": digest.status,
        "version": rev.number,
        "approved_version": digest.approved_revision,
        "slot_seconds": v["slot_seconds"],
        "total_seconds": v["total_seconds"],
        "reserve_seconds": v["reserve_seconds"],
        "rate": v["rate"],
        "chars": v["chars"],
        "built_at": local_iso(digest.built_at),
        "approved_at": local_iso(digest.approved_at),
        "aired_at": local_iso(digest.aired_at),
        "items": [{"section": i["section"], "heading": i["heading"], "title": i["title"], "text": i["text"],
                   "source": i.get("source") or "", "chars": i["chars"], "seconds": i["seconds"],
                   "starts_at": i["starts_at"]} for i in v["items"]],
        "left_out": [{"section": i["section"], "title": i["title"], "chars": i["chars"], "seconds": i["seconds"],
                      "reason": i.get("reason"), "reason_text": reason_text(i)} for i in v["left_out"]],
    }


def headline(v: dict[str, Any]) -> str:
    day = v["digest"].air_date
    return f"《职工之声》 {day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def to_text(v: dict[str, Any]) -> str:
    digest, rev = v["digest"], v["revision"]
    lines = [
        headline(v),
        f"版本{rev.number} · {STATUS_ZH.get(digest.status, digest.status)} · 时长{builder.mmss(v['total_seconds'])}"
        f"／时段{builder.mmss(v['slot_seconds'])} · {v['chars']}字 · 每分钟{v['rate']}字",
        "",
    ]
    for item in v["items"]:
        if item["heading"]:
            lines += [f"【{item['heading']}】", ""]
        lines.append(f"[{builder.mmss(item['starts_at'])}] {item['title']}（{item['chars']}字，"
                     f"{builder.mmss(item['seconds'])}）")
        lines.append(item["text"])
        if item.get("source") and item["section"] in ("union_news", "policy", "jobs"):
            lines.append(f"（来源：{item['source']}）")
        lines.append("")
    lines.append(f"—— 全文完，播出时长{builder.mmss(v['total_seconds'])} ——")
    return "\n".join(lines) + "\n"


PROGRAMME = "职工之声"


def file_name(v: dict[str, Any], ext: str) -> str:
    """职工之声-2026-12-03.docx: the programme and the air date."""
    return f"{PROGRAMME}-{v['digest'].air_date.isoformat()}.{ext}"


def disposition(kind: str, name: str) -> str:
    """Content-Disposition with the Chinese name (RFC 6266 / 5987) and an ASCII fallback for old clients."""
    from urllib.parse import quote

    fallback = "zhigong-zhisheng-" + name.split("-", 1)[1] if "-" in name else "digest"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chinese_fonts(style, latin: str = "SimSun", east_asia: str = "宋体") -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style.font.name = latin
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def to_docx(v: dict[str, Any]) -> bytes:
    """A Word script for the announcer: A4, Chinese (zh-CN) with Chinese fonts (宋体 / 黑体 for the headings),
    large type, the running time in front of each item. Characters XML cannot carry (hotline/text.py) are
    left out, whatever was stored before the doors refused them."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    for section in doc.sections:  # A4, not the template's US Letter
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)
    style = doc.styles["Normal"]
    style.font.size = Pt(16)
    _chinese_fonts(style)
    for name in ("Title", "Heading 1"):
        _chinese_fonts(doc.styles[name], "SimHei", "黑体")
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    doc.styles["Title"].font.size = Pt(22)
    doc.styles["Heading 1"].font.size = Pt(18)
    from docx.oxml.ns import qn

    defaults = doc.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(".//" + qn("w:lang")) if defaults is not None else None
    if lang is not None:  # the template's document default is en-US
        lang.set(qn("w:val"), "zh-CN")
        lang.set(qn("w:eastAsia"), "zh-CN")
    doc.core_properties.language = "zh-CN"
    doc.core_properties.title = headline(v)
    digest, rev = v["digest"], v["revision"]
    title = doc.add_heading(headline(v), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"版本{rev.number} · {STATUS_ZH.get(digest.status, digest.status)} · 时长"
                      f"{builder.mmss(v['total_seconds'])}／{builder.mmss(v['slot_seconds'])} · {v['chars']}字")
    for item in v["items"]:
        if item["heading"]:
            doc.add_heading(xml_safe(item["heading"]), level=1)
        head = doc.add_paragraph()
        run = head.add_run(f"[{builder.mmss(item['starts_at'])}] ")
        run.bold = True
        head.add_run(xml_safe(f"{item['title']}（{item['chars']}字，{builder.mmss(item['seconds'])}）")).italic = True
        for para in xml_safe(item["text"]).split("\n"):
            doc.add_paragraph(para)
    doc.add_paragraph(f"—— 全文完，播出时长{builder.mmss(v['total_seconds'])} ——").alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_atom(views: list[dict[str, Any]], self_url: str, link_for) -> bytes:
    """An Atom feed of approved (and aired) digests, newest first. `link_for(date)` gives each entry's URL."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = "urn:hotline:digests"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "《职工之声》每日稿件"
    updated = max((v["digest"].updated_at for v in views), default=datetime(2026, 1, 1, tzinfo=timezone.utc))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = local_iso(updated)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "12351职工服务热线"
    for v in views:
        digest, rev = v["digest"], v["revision"]
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:hotline:digest:{digest.air_date.isoformat()}:{rev.number}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{headline(v)} 版本{rev.number}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = local_iso(digest.updated_at)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/plain", href=link_for(digest.air_date))
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = (
            f"{STATUS_ZH.get(digest.status)} · 时长{builder.mmss(v['total_seconds'])} · {len(v['items'])}条")
        ET.SubElement(entry, f"{{{ATOM}}}content", type="text").text = xml_safe(to_text(v))  # well-formed XML
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")
