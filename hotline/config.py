"""Settings from the environment, checked once at start-up."""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Who this process is: the holder of its job leases and, on PostgreSQL, the application_name of its
# connections, so that a lease whose holder has no session left (the process was killed) is taken over
# at once instead of when it expires (hotline.jobs.run_lock). At most 63 bytes, PostgreSQL's limit.
PROCESS_NAME = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
WEAK_KEYS = {"", "dev", "change-me", "secret", "development-only-key"}


class ConfigError(RuntimeError):
    pass


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ
    overrides = dict(overrides or {})
    hotline_env = overrides.get("HOTLINE_ENV") or env.get("HOTLINE_ENV") or "production"
    if hotline_env not in {"development", "test", "production"}:
        raise ConfigError(f"HOTLINE_ENV must be development, test or production, not {hotline_env!r}")
    instance = ROOT / "instance"
    cfg: dict = {
        "HOTLINE_ENV": hotline_env,
        "SECRET_KEY": env.get("SECRET_KEY") or ("" if hotline_env == "production" else instance_secret("secret_key")),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'hotline.sqlite3'}",
        "HOTLINE_TIMEZONE": env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
        "HOTLINE_WORKDAY_END": env.get("HOTLINE_WORKDAY_END", "17:30"),
        "HOTLINE_WORKDAY_START": env.get("HOTLINE_WORKDAY_START", "08:30"),
        "HOTLINE_SCHEDULER": _flag(env.get("HOTLINE_SCHEDULER"), hotline_env == "development"),
        "HOTLINE_NOW": env.get("HOTLINE_NOW") or None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "hotline" / "translations"),
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure (sent over HTTPS only) when the site's public address is https, unless said otherwise.
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"),
                                       (env.get("HOTLINE_PUBLIC_URL") or "").lower().startswith("https://")),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        # pre-ping: a connection that died (PostgreSQL restarted) is replaced on checkout, not used.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"application_name": PROCESS_NAME}},
        # Reads on a streaming replica (hotline/replica.py, docs/deploy.md): reports, exports, the KPI API
        # and search, while the replica answers and lags at most this many seconds (checked every few).
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL") or None,
        "HOTLINE_REPLICA_MAX_LAG_SECONDS": float(env.get("HOTLINE_REPLICA_MAX_LAG_SECONDS") or "30"),
        "HOTLINE_REPLICA_CHECK_SECONDS": float(env.get("HOTLINE_REPLICA_CHECK_SECONDS") or "5"),
        # Log-in throttling (hotline/auth/service.py): failures of one account from one address, and of any
        # account from one address, lock that pair (or that address) for LOGIN_LOCK_MINUTES, doubling with
        # each further failure up to LOGIN_LOCK_MAX_MINUTES. Refused attempts never count; failures older
        # than the window are forgotten.
        "LOGIN_MAX_FAILURES": int(env.get("HOTLINE_LOGIN_MAX_FAILURES") or "5"),
        "LOGIN_ADDRESS_MAX_FAILURES": int(env.get("HOTLINE_LOGIN_ADDRESS_MAX_FAILURES") or "20"),
        "LOGIN_LOCK_MINUTES": int(env.get("HOTLINE_LOGIN_LOCK_MINUTES") or "1"),
        "LOGIN_LOCK_MAX_MINUTES": int(env.get("HOTLINE_LOGIN_LOCK_MAX_MINUTES") or "60"),
        "LOGIN_FAILURE_WINDOW_MINUTES": int(env.get("HOTLINE_LOGIN_FAILURE_WINDOW_MINUTES") or "1440"),
        "LOCK_LIST_MINUTES": 24 * 60,
        # Server-side sessions end after this long without a request, and this long after the login.
        "SESSION_IDLE_HOURS": float(env.get("HOTLINE_SESSION_IDLE_HOURS") or "8"),
        "SESSION_LIFETIME_HOURS": float(env.get("HOTLINE_SESSION_LIFETIME_HOURS") or "12"),
        # The largest request body the app reads (a 台账 import is the largest legitimate one): 413 beyond.
        "MAX_CONTENT_LENGTH": int(float(env.get("HOTLINE_MAX_REQUEST_MB") or "21") * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
        "API_TOKEN_DAYS": int(env.get("HOTLINE_API_TOKEN_DAYS", "365")),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_FROM": env.get("TWILIO_FROM") or None,
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "HOTLINE_PUBLIC_URL": env.get("HOTLINE_PUBLIC_URL") or None,
        # SMS gateway: twilio | aliyun | tencent | file:PATH | log (empty: twilio when configured, else log).
        "HOTLINE_SMS_BACKEND": env.get("HOTLINE_SMS_BACKEND") or None,
        "HOTLINE_SMS_MAX_LENGTH": int(env.get("HOTLINE_SMS_MAX_LENGTH") or "300"),
        # Secret part of the URL the gateways push delivery receipts and replies to (/sms/<provider>/<token>).
        "HOTLINE_SMS_RECEIPT_TOKEN": env.get("HOTLINE_SMS_RECEIPT_TOKEN") or None,
        "ALIYUN_ACCESS_KEY_ID": env.get("ALIYUN_ACCESS_KEY_ID") or None,
        "ALIYUN_ACCESS_KEY_SECRET": env.get("ALIYUN_ACCESS_KEY_SECRET") or None,
        "ALIYUN_SMS_ENDPOINT": env.get("ALIYUN_SMS_ENDPOINT") or None,
        "ALIYUN_SMS_PROTOCOL": env.get("ALIYUN_SMS_PROTOCOL") or None,
        "TENCENT_SECRET_ID": env.get("TENCENT_SECRET_ID") or None,
        "TENCENT_SECRET_KEY": env.get("TENCENT_SECRET_KEY") or None,
        "TENCENT_SMS_APP_ID": env.get("TENCENT_SMS_APP_ID") or None,
        "TENCENT_SMS_REGION": env.get("TENCENT_SMS_REGION") or None,
        "TENCENT_SMS_ENDPOINT": env.get("TENCENT_SMS_ENDPOINT") or None,
        "TENCENT_SMS_PROTOCOL": env.get("TENCENT_SMS_PROTOCOL") or None,
        # Behind N reverse proxies without HOTLINE_PUBLIC_URL: trust N X-Forwarded-* hops (werkzeug ProxyFix),
        # so that Twilio's signatures are checked against the URL Twilio called.
        "HOTLINE_PROXY_FIX": int(env.get("HOTLINE_PROXY_FIX") or "0"),
        "HOTLINE_SCAN_SECONDS": int(env.get("HOTLINE_SCAN_SECONDS", "60")),
        # 回访: the operators' worklist holds cases closed or replied within this many working days.
        "HOTLINE_SURVEY_WINDOW_DAYS": int(env.get("HOTLINE_SURVEY_WINDOW_DAYS", "3")),
        # The case list counts at most this many matches of its filters and then says "10,000+".
        "HOTLINE_LIST_COUNT_CAP": int(env.get("HOTLINE_LIST_COUNT_CAP", "10000")),
        # A filter found past the cap is not counted again for this many seconds (its next pages; 0: always).
        "HOTLINE_LIST_PAST_CAP_SECONDS": int(env.get("HOTLINE_LIST_PAST_CAP_SECONDS", "60")),
        "HOTLINE_NOTIFY_SECONDS": int(env.get("HOTLINE_NOTIFY_SECONDS", "5")),
        "HOTLINE_REMINDER_SECONDS": int(env.get("HOTLINE_REMINDER_SECONDS", "300")),
        "HOTLINE_CALLS_SECONDS": int(env.get("HOTLINE_CALLS_SECONDS", "300")),
        # The `channels` job: station-line moves Twilio did not take, 回访 calls, recordings to fetch or delete.
        "HOTLINE_CHANNELS_SECONDS": int(env.get("HOTLINE_CHANNELS_SECONDS", "15")),
        # The dashboard's daily figures: how often the `rollup` job looks for days that are over.
        "HOTLINE_ROLLUP_SECONDS": int(env.get("HOTLINE_ROLLUP_SECONDS", "600")),
        # Recordings: a folder (default instance/recordings) for the hotline's copies.
        "HOTLINE_RECORDINGS_DIR": env.get("HOTLINE_RECORDINGS_DIR") or str(instance / "recordings"),
        # …or S3-compatible storage: s3://bucket/prefix (S3_ENDPOINT_URL for MinIO, OSS, COS; boto3's credentials).
        "HOTLINE_RECORDINGS_STORE": env.get("HOTLINE_RECORDINGS_STORE") or None,
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": env.get("S3_REGION") or None,
        # The station line's number, shown to the producer's phone when screening (default TWILIO_FROM).
        "RADIO_LINE_FROM": env.get("RADIO_LINE_FROM") or None,
        # Hosts the account's credentials are sent to when downloading a recording (comma-separated).
        "TWILIO_MEDIA_HOSTS": env.get("TWILIO_MEDIA_HOSTS") or "api.twilio.com",
        "HOTLINE_DIGEST_SECONDS": int(env.get("HOTLINE_DIGEST_SECONDS", "60")),
        # Intake help (hotline/knowledge): the classifier's training run, and the 群体性预警 rule (callers, days).
        "HOTLINE_CLASSIFIER_SECONDS": int(env.get("HOTLINE_CLASSIFIER_SECONDS", "86400")),
        "HOTLINE_GROUP_CALLERS": int(env.get("HOTLINE_GROUP_CALLERS", "3")),
        "HOTLINE_GROUP_DAYS": int(env.get("HOTLINE_GROUP_DAYS", "14")),
        "TESTING": hotline_env == "test",
        # Tests create many users; a cheap hash keeps them fast. Real deployments use scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000" if hotline_env == "test" else "scrypt",
    }
    cfg.update(overrides)
    check_config(cfg)
    return cfg


def instance_secret(name: str) -> str:
    """A random secret made once for this installation and kept in instance/<name> (mode 0600), for
    development and tests: never a key printed in the source, which anyone could use to sign a cookie."""
    import secrets

    folder = Path(os.environ.get("HOTLINE_INSTANCE_DIR") or (ROOT / "instance"))
    path = folder / name
    for _attempt in range(3):
        try:
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
            path.unlink()  # damaged or empty: make a new one
        except FileNotFoundError:
            pass
        folder.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        try:  # O_EXCL: two processes starting together keep the one that was written first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        return value
    raise ConfigError(f"cannot keep a secret in {path}")


def check_config(cfg: dict) -> None:
    backend = (cfg.get("HOTLINE_SMS_BACKEND") or "").strip()
    if backend and backend.split(":", 1)[0] not in ("twilio", "aliyun", "tencent", "file", "log"):
        raise ConfigError(f"HOTLINE_SMS_BACKEND must be twilio, aliyun, tencent, file:PATH or log, not {backend!r}")
    store = (cfg.get("HOTLINE_RECORDINGS_STORE") or "").strip()
    if store and not (store.startswith("s3://") and len(store) > 5):
        raise ConfigError(f"HOTLINE_RECORDINGS_STORE must be s3://bucket[/prefix] (or empty for a folder), not {store!r}")
    if backend.startswith("file") and not backend.startswith("file:") or backend == "file:":
        raise ConfigError("HOTLINE_SMS_BACKEND=file needs a path: file:/var/lib/hotline/sms.jsonl")
    if cfg["HOTLINE_ENV"] == "production":
        if cfg.get("HOTLINE_NOW"):
            raise ConfigError("HOTLINE_NOW pins the clock and is refused in production")
        key = cfg.get("SECRET_KEY") or ""
        if key in WEAK_KEYS or len(key) < 32:
            raise ConfigError("SECRET_KEY is required in production (at least 32 random characters)")
    if cfg.get("SECRET_KEY") in WEAK_KEYS:
        raise ConfigError("SECRET_KEY is a well-known value; leave it unset outside production (a random one "
                          "is kept in instance/) or set a random one")
    for name in ("SESSION_IDLE_HOURS", "SESSION_LIFETIME_HOURS"):
        if not 0 < float(cfg[name]) <= 24 * 31:
            raise ConfigError(f"{name} must be a number of hours between 0 and 744")
    if cfg.get("HOTLINE_NOW"):
        try:
            pinned = datetime.fromisoformat(cfg["HOTLINE_NOW"])
        except ValueError as exc:
            raise ConfigError(f"HOTLINE_NOW is not ISO 8601: {cfg['HOTLINE_NOW']!r}") from exc
        if pinned.tzinfo is None:
            raise ConfigError("HOTLINE_NOW needs an offset, e.g. 2026-11-30T09:00:00+08:00")
