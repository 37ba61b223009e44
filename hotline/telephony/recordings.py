"""Recordings kept by the hotline: downloaded from Twilio when it reports them, stored, played, deleted.

Twilio's recording status callback creates a `pending` Recording; the `channels` job downloads the audio
with the account's credentials (HTTP basic auth, only to Twilio's media hosts), checks that it is audio
(Content-Type and the file's first bytes: MP3 or WAV) and stores it: in a folder (HOTLINE_RECORDINGS_DIR,
default instance/recordings), or with HOTLINE_RECORDINGS_STORE=s3://bucket/prefix in S3-compatible storage
through boto3 (S3_ENDPOINT_URL for MinIO, OSS, COS …; credentials as boto3 reads them). A failed download or something that is not audio keeps the reason and is
tried again with back-off; after MAX_ATTEMPTS it is `failed` (shown on the case page). Those allowed to see
the case hear it through /calls/recordings/<id>/audio (never Twilio's URL). After the keeping period
(telephony settings, days) the file is deleted and the deletion logged.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import contains_eager, lazyload

from hotline import clock
from hotline.auth.models import User
from hotline.cases import access, panels
from hotline.db_helpers import insert_ignore
from hotline.extensions import db
from hotline.telephony import settings as line
from hotline.telephony.models import Call, Recording

log = logging.getLogger("hotline.telephony")
MAX_ATTEMPTS = 8
MAX_BYTES = 50 * 1024 * 1024
AUDIO_TYPES = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-wav": ".wav", "audio/wav": ".wav"}


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=1) * (2 ** max(0, attempts - 1)), timedelta(hours=2))


def reported(call: Call, params: dict[str, str]) -> None:
    """Twilio reported a finished recording of this call: keep a copy (once per RecordingSid)."""
    sid = (params.get("RecordingSid") or "").strip()[:64]
    url = (params.get("RecordingUrl") or "").strip()[:500]
    if not sid or not url:
        return
    now = clock.now()
    insert_ignore(Recording, [dict(call_id=call.id, recording_sid=sid, source_url=url,
                                    seconds=call.recording_seconds, status="pending", attempts=0,
                                    next_attempt_at=now, created_at=now)])


def folder() -> Path:
    return Path(current_app.config["HOTLINE_RECORDINGS_DIR"])


class FolderStore:
    """Files under a folder; a file is written whole (temporary name, then renamed) or not at all."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


class S3Store:
    """An S3-compatible bucket through boto3 (path-style addressing, checksums only where required, so that
    MinIO, Aliyun OSS and Tencent COS take it as well as AWS)."""

    def __init__(self, url: str, cfg: dict):
        import boto3
        from botocore.config import Config

        parts = urlsplit(url)
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.client = boto3.client(
            "s3", endpoint_url=cfg.get("S3_ENDPOINT_URL") or None, region_name=cfg.get("S3_REGION") or None,
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required", connect_timeout=10, read_timeout=30,
                          retries={"total_max_attempts": 1}))  # the job retries with its own back-off

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def store():
    cfg = current_app.config
    url = (cfg.get("HOTLINE_RECORDINGS_STORE") or "").strip()
    if url.startswith("s3://"):
        return S3Store(url, cfg)
    return FolderStore(folder())


def store_errors() -> tuple:
    """What a store may raise besides OSError."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def _media_url(url: str) -> str | None:
    """The MP3 of a recording, and only on Twilio's media hosts (the credentials go nowhere else)."""
    parts = urlsplit(url)
    hosts = {h.strip() for h in (current_app.config.get("TWILIO_MEDIA_HOSTS") or "api.twilio.com").split(",")}
    if parts.hostname not in hosts or parts.scheme not in ("https", "http"):
        return None
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    return url if url.endswith((".mp3", ".wav")) else url + ".mp3"


def _looks_like_audio(data: bytes, content_type: str) -> str | None:
    """The file extension when the bytes are MP3 or WAV and say so, else None."""
    ext = AUDIO_TYPES.get(content_type)
    if ext == ".mp3" and (data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)):
        return ext
    if ext == ".wav" and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return ext
    return None


def fetch_due(now=None, limit: int = 10) -> dict[str, int]:
    """The job: download what is due. Commits per recording."""
    import requests

    cfg = current_app.config
    stats = {"stored": 0, "failed": 0}
    now = now or clock.now()
    due = list(db.session.scalars(select(Recording.id).where(
        Recording.status == "pending", Recording.next_attempt_at <= now)
        .order_by(Recording.next_attempt_at, Recording.id).limit(limit)))
    target_store = store() if due else None
    for rec_id in due:
        rec = db.session.get(Recording, rec_id)
        rec.attempts += 1
        error = None
        url = _media_url(rec.source_url)
        try:
            if url is None:
                raise ValueError("not a Twilio media address")
            if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")):
                raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to download recordings")
            resp = requests.get(url, auth=(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]), timeout=30,
                                stream=True, allow_redirects=True)
            if resp.status_code != 200:
                raise ValueError(f"Twilio answered {resp.status_code}")
            data = resp.raw.read(MAX_BYTES + 1, decode_content=True)
            if len(data) > MAX_BYTES:
                raise ValueError("larger than 50 MB")
            content_type = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            ext = _looks_like_audio(data, content_type)
            if ext is None:
                raise ValueError(f"not audio ({content_type or 'no type'}, {len(data)} bytes)")
            local = clock.to_local(rec.created_at)
            relative = f"{local:%Y}/{local:%m}/{rec.recording_sid}{ext}"
            target_store.put(relative, data, content_type)
        except (requests.RequestException, ValueError, *store_errors()) as exc:
            error = str(exc)[:300]
        if error is None:
            rec.status, rec.path, rec.content_type, rec.size = "stored", relative, content_type, len(data)
            rec.stored_at, rec.last_error, rec.next_attempt_at = clock.now(), None, None
            stats["stored"] += 1
        else:
            rec.last_error = error
            stats["failed"] += 1
            if rec.attempts >= MAX_ATTEMPTS:
                rec.status, rec.next_attempt_at = "failed", None
            else:
                rec.next_attempt_at = clock.now() + backoff(rec.attempts)
        db.session.commit()
    return stats


def purge(now=None) -> dict[str, int]:
    """Delete the copies older than the keeping period (telephony settings), each deletion logged."""
    now = now or clock.now()
    cutoff = now - timedelta(days=line.get().recording_keep_days)
    stats = {"deleted": 0}
    old = list(db.session.scalars(select(Recording).where(Recording.status == "stored",
                                                          Recording.stored_at < cutoff).limit(200)))
    target_store = store() if old else None
    for rec in old:
        try:
            target_store.delete(rec.path)
        except store_errors() as exc:
            log.error("recording %s could not be deleted: %s", rec.recording_sid, exc)
            continue
        log.info("recording %s of call %s deleted after %d days (stored %s)", rec.recording_sid, rec.call.call_sid,
                 line.get().recording_keep_days, rec.stored_at.isoformat())
        rec.status, rec.deleted_at, rec.path = "deleted", now, None
        stats["deleted"] += 1
        db.session.commit()
    return stats


def may_hear(actor: User, rec: Recording) -> bool:
    """Those who may see the case's caller details; without a case, operators and supervisors."""
    case = rec.call.case
    if case is None:
        return actor.has_role("operator", "supervisor")
    return access.can_view(actor, case) and access.can_see_private(actor, case)


# The case page asks this with its other panels in one statement (hotline/cases/panels.py).
panels.register("recordings", lambda case_id, _reader: exists().where(Recording.call_id == Call.id, Call.case_id == case_id))


def of_case(actor: User, case) -> list[Recording]:
    # The calls come with the recordings' own join; their case is the one at hand (found in the session, not
    # joined again with its type, category, department and handler) and their operator is not shown: the case
    # page asks this of every case, which mostly has no recording.
    rows = list(db.session.scalars(
        select(Recording).join(Recording.call).where(Call.case_id == case.id).order_by(Recording.id)
        .options(contains_eager(Recording.call).options(lazyload(Call.case), lazyload(Call.operator)))))
    return [rec for rec in rows if may_hear(actor, rec)]


def of_call(call: Call) -> Recording | None:
    return db.session.scalar(select(Recording).where(Recording.call_id == call.id))
