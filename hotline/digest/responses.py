"""The digest's files as HTTP responses (.txt, .docx, the Atom feed): one way for the pages and the API alike."""
from __future__ import annotations

from flask import Response

from hotline.digest import formats, service


def text_response(v) -> Response:
    return Response(formats.to_text(v), mimetype="text/plain",
                    headers={"Content-Disposition": formats.disposition("inline", formats.file_name(v, "txt"))})


def docx_response(v) -> Response:
    return Response(formats.to_docx(v),
                    mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": formats.disposition("attachment", formats.file_name(v, "docx"))})


def atom_response(self_url: str, link_for) -> Response:
    views = [service.approved_view(d) for d in service.approved_digests()]
    return Response(formats.to_atom(views, self_url, link_for), mimetype="application/atom+xml")
