"""What the gateways tell us after sending: delivery receipts, and callers' replies (TD, survey answers).

Aliyun pushes SmsReport / SmsUp, Tencent Cloud its 状态回执 / 上行短信, Twilio its message status callback.
A receipt finds the notice by the gateway's id (provider_id); a repeated or unknown receipt changes nothing.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hotline import clock
from hotline.extensions import db
from hotline.notify.models import Notice
from hotline.telephony import sms

log = logging.getLogger("hotline.sms")


def _record(provider: str, provider_id: str, delivered: bool, detail: str) -> bool:
    if not provider_id:
        return False
    notice = db.session.scalar(select(Notice).where(Notice.provider_id == provider_id[:64],
                                                    Notice.channel == "sms").limit(1))
    if notice is None:
        log.info("%s receipt for unknown message %s", provider, provider_id[:64])
        return False
    if notice.delivery == "delivered":
        return False  # a late "undelivered" after "delivered" (or a repeat) changes nothing
    notice.delivery = "delivered" if delivered else "undelivered"
    notice.delivered_at = clock.now() if delivered else None
    if not delivered:
        notice.last_error = f"{provider} receipt: {detail}"[:500]
    return True


def delivery_reports(provider: str, items: list[dict[str, Any]]) -> int:
    """Aliyun: biz_id, success, err_code; Tencent Cloud: sid, report_status (SUCCESS/FAIL), errmsg."""
    changed = 0
    for item in items:
        if provider == "aliyun":
            provider_id = str(item.get("biz_id") or "")
            delivered = item.get("success") in (True, "true", "True", 1)
            detail = f"{item.get('err_code') or ''} {item.get('err_msg') or ''}".strip()
        else:
            provider_id = str(item.get("sid") or "")
            delivered = str(item.get("report_status") or "").upper() == "SUCCESS"
            detail = f"{item.get('errmsg') or ''} {item.get('description') or ''}".strip()
        changed += _record(provider, provider_id, delivered, detail)
    db.session.flush()
    return changed


def twilio_status(params: dict[str, str]) -> bool:
    """Twilio's status callback of an outgoing SMS: delivered, or undelivered/failed (ErrorCode)."""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if status not in ("delivered", "undelivered", "failed"):
        return False
    changed = _record("twilio", params.get("MessageSid") or "", status == "delivered",
                      f"{status} {params.get('ErrorCode') or ''}".strip())
    db.session.flush()
    return changed


def _local_stamp(raw: Any) -> str:
    if isinstance(raw, (int, float)):
        return datetime.fromtimestamp(raw, tz=clock.local_tz()).isoformat()
    return str(raw or "")


def replies(provider: str, items: list[dict[str, Any]]) -> int:
    """Callers' SMS to the signature's number (上行): handled like a Twilio inbound SMS (TD opts out, 1/2/3
    answers the survey). Each gets a stable id from the push so a repeated push is a no-op."""
    handled = 0
    for item in items:
        if provider == "aliyun":
            phone, body = item.get("phone_number"), item.get("content")
            stamp = _local_stamp(item.get("send_time"))
            seq = item.get("sequence_id")
        else:
            phone, body = item.get("mobile"), item.get("text")
            stamp = _local_stamp(item.get("time"))
            seq = None
            if item.get("nationcode") and phone and not str(phone).startswith("+"):
                phone = f"+{item['nationcode']}{phone}"
        if not phone or body is None:
            continue
        raw = f"{provider}|{phone}|{stamp}|{seq}|{body}"
        sid = f"{provider[:2].upper()}{hashlib.sha256(raw.encode()).hexdigest()[:32]}"
        sms.receive({"MessageSid": sid, "From": str(phone), "Body": str(body)})
        handled += 1
    return handled
