"""Sending SMS: the gateway chosen by HOTLINE_SMS_BACKEND.

twilio   Twilio's REST client (TWILIO_* settings); the rendered text, signature first.
aliyun   Aliyun SMS (dysmsapi 2017-05-25) through its official SDK: template code + variables as JSON.
tencent  Tencent Cloud SMS (2021-01-11) through its official SDK: template id + variables in order.
file:PATH  one JSON line per message (to, template, params, body) appended to PATH: staging sites, tests.
log      the message is logged; the outbox still records it.

Without HOTLINE_SMS_BACKEND: twilio when its settings are complete, else log (as before).
Every sender raises SmsError: `retryable` (the outbox tries again later), `rejected` (the gateway refused
the template or signature: fixed in the catalogue, not by waiting), else a permanent failure.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app

log = logging.getLogger("hotline.sms")

# Twilio error codes that no retry will fix (invalid or unreachable number, opted out, …).
PERMANENT_TWILIO_CODES = {21211, 21212, 21408, 21606, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006}
# Twilio: the content was refused (30007 filtered as spam, 21656 content template invalid).
REJECTED_TWILIO_CODES = {30007, 21656, 63005}
BACKENDS = ("twilio", "aliyun", "tencent", "file", "log")


class SmsError(Exception):
    def __init__(self, message: str, retryable: bool, code: Any = None, rejected: bool = False):
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.rejected = rejected


@dataclass
class Outgoing:
    """One message as the gateways need it."""

    to: str  # E.164
    template: str  # catalogue code
    gateway_id: str  # the gateway's id of the approved template ("" when none is set)
    params: dict[str, Any]
    variables: tuple[str, ...]  # the template's variables in order (Tencent Cloud numbers them)
    body: str  # the rendered text, signature first
    signature: str = ""  # 【…】

    @property
    def sign_name(self) -> str:
        return self.signature.strip().strip("【】[]")

    @property
    def national(self) -> str:
        return self.to[3:] if self.to.startswith("+86") else self.to.lstrip("+")


@dataclass
class LogSender:
    name = "log"

    def send(self, msg: Outgoing) -> str:
        log.info("SMS (log backend) to %s: %s", msg.to, msg.body)
        return "log"


_file_lock = threading.Lock()


@dataclass
class FileSender:
    """Appends one JSON line per message; a single write() of one line with O_APPEND, so lines never mix."""

    path: str
    name = "file"

    def send(self, msg: Outgoing) -> str:
        line = json.dumps({"to": msg.to, "template": msg.template, "params": msg.params, "body": msg.body},
                          ensure_ascii=False) + "\n"
        try:
            with _file_lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
        except OSError as exc:
            raise SmsError(f"file {self.path}: {exc}", True) from exc
        return "file"


class TwilioSender:
    name = "twilio"

    def __init__(self, client, from_number: str | None, messaging_service_sid: str | None,
                 status_callback: str | None = None):
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    def send(self, msg: Outgoing) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": msg.to, "body": msg.body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            if exc.code in REJECTED_TWILIO_CODES:
                raise SmsError(f"Twilio {exc.status} {exc.code}: {exc.msg}", False, exc.code, rejected=True) from exc
            # Rate limits, time-outs and Twilio's own faults pass; a refused number does not.
            retryable = (exc.status in (408, 429) or exc.status >= 500) and exc.code not in PERMANENT_TWILIO_CODES
            raise SmsError(f"Twilio {exc.status} {exc.code or ''}: {exc.msg}".strip(), retryable, exc.code) from exc
        except TwilioException as exc:
            raise SmsError(f"Twilio: {exc}", True) from exc
        except OSError as exc:  # network down
            raise SmsError(f"network: {exc}", True) from exc
        return message.sid


# Aliyun's answer codes: the template or signature refused, a number refused, or wait and try again.
ALIYUN_REJECTED = {"isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL",
                   "isv.TEMPLATE_MISSING_PARAMETERS", "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.PARAM_LENGTH_LIMIT",
                   "isv.SMS_CONTENT_ILLEGAL", "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "isv.EXTEND_CODE_ERROR",
                   "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "isv.INVALID_JSON_PARAM", "isv.PARAM_NOT_SUPPORT_URL"}
ALIYUN_RETRY = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH",
                "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY", "SignatureNonceUsed", "Throttling.User",
                "ServiceUnavailable", "InternalError"}


class AliyunSender:
    """dysmsapi SendSms through alibabacloud_dysmsapi20170525 (endpoint and protocol from settings)."""

    name = "aliyun"

    def __init__(self, cfg: dict):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        config = Config(access_key_id=cfg.get("ALIYUN_ACCESS_KEY_ID"), access_key_secret=cfg.get("ALIYUN_ACCESS_KEY_SECRET"),
                        endpoint=cfg.get("ALIYUN_SMS_ENDPOINT") or "dysmsapi.aliyuncs.com",
                        protocol=cfg.get("ALIYUN_SMS_PROTOCOL") or "https", read_timeout=10000, connect_timeout=5000)
        self.client = Client(config)

    def send(self, msg: Outgoing) -> str:
        from alibabacloud_dysmsapi20170525 import models

        if not msg.gateway_id:
            raise SmsError(f"no Aliyun template code for {msg.template}", False, rejected=True)
        request = models.SendSmsRequest(phone_numbers=msg.national, sign_name=msg.sign_name,
                                        template_code=msg.gateway_id,
                                        template_param=json.dumps(msg.params, ensure_ascii=False), out_id=None)
        try:
            response = self.client.send_sms(request)
        except Exception as exc:  # the SDK's TeaException/DaraException or a network error
            code = getattr(exc, "code", None)
            status = (getattr(exc, "data", None) or {}).get("statusCode") if isinstance(getattr(exc, "data", None), dict) else None
            if code in ALIYUN_REJECTED:
                raise SmsError(f"Aliyun {code}: {getattr(exc, 'message', exc)}", False, code, rejected=True) from exc
            retryable = code is None or code in ALIYUN_RETRY or (status or 500) >= 500 or status == 429
            raise SmsError(f"Aliyun {code or 'network'}: {getattr(exc, 'message', exc)}"[:480], retryable, code) from exc
        body = response.body
        if body.code == "OK":
            return body.biz_id or "aliyun"
        if body.code in ALIYUN_REJECTED:
            raise SmsError(f"Aliyun {body.code}: {body.message}", False, body.code, rejected=True)
        raise SmsError(f"Aliyun {body.code}: {body.message}", body.code in ALIYUN_RETRY, body.code)


TENCENT_REJECTED_PREFIXES = ("FailedOperation.TemplateIncorrectOrUnapproved",
                             "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.ContainSensitiveWord",
                             "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                             "InvalidParameterValue.TemplateParameterFormatError",
                             "InvalidParameterValue.TemplateParameterLengthLimit",
                             "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
                             "InvalidParameterValue.ContentLengthLimit", "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber")
TENCENT_RETRY_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded", "ServerNetworkError",
                          "ClientNetworkError", "FailedOperation.InsufficientBalanceInSmsPackage")


class TencentSender:
    """SmsClient.SendSms (2021-01-11) through tencentcloud-sdk-python-sms (endpoint and scheme from settings)."""

    name = "tencent"

    def __init__(self, cfg: dict):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        http = HttpProfile(endpoint=cfg.get("TENCENT_SMS_ENDPOINT") or "sms.tencentcloudapi.com",
                           protocol=cfg.get("TENCENT_SMS_PROTOCOL") or "https", reqTimeout=10)
        cred = credential.Credential(cfg.get("TENCENT_SECRET_ID") or "", cfg.get("TENCENT_SECRET_KEY") or "")
        self.client = sms_client.SmsClient(cred, cfg.get("TENCENT_SMS_REGION") or "ap-guangzhou",
                                           ClientProfile(httpProfile=http))
        self.app_id = cfg.get("TENCENT_SMS_APP_ID") or ""

    def send(self, msg: Outgoing) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        if not msg.gateway_id:
            raise SmsError(f"no Tencent Cloud template id for {msg.template}", False, rejected=True)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [msg.to]
        request.SmsSdkAppId = self.app_id
        request.SignName = msg.sign_name
        request.TemplateId = msg.gateway_id
        request.TemplateParamSet = [str(msg.params.get(name, "")) for name in msg.variables]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            if code.startswith(TENCENT_REJECTED_PREFIXES):
                raise SmsError(f"Tencent {code}: {exc.get_message()}", False, code, rejected=True) from exc
            retryable = not code or code.startswith(TENCENT_RETRY_PREFIXES)
            raise SmsError(f"Tencent {code}: {exc.get_message()}"[:480], retryable, code) from exc
        except OSError as exc:
            raise SmsError(f"network: {exc}", True) from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise SmsError("Tencent: empty answer", True)
        if status.Code == "Ok":
            return status.SerialNo or "tencent"
        code = status.Code or ""
        if code.startswith(TENCENT_REJECTED_PREFIXES):
            raise SmsError(f"Tencent {code}: {status.Message}", False, code, rejected=True)
        raise SmsError(f"Tencent {code}: {status.Message}", code.startswith(TENCENT_RETRY_PREFIXES), code)


def twilio_client():
    """The real twilio Client; tests hand it a recording http_client through app.extensions."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    cfg = current_app.config
    # A time-out: a request from a web page (the console, 回拨) must not hang on a slow Twilio.
    http_client = current_app.extensions.get("twilio_http_client") or TwilioHttpClient(timeout=15)
    return Client(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], http_client=http_client)


def backend_name() -> str:
    cfg = current_app.config
    chosen = (cfg.get("HOTLINE_SMS_BACKEND") or "").strip()
    if chosen:
        return chosen.split(":", 1)[0]
    if cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN") and (
            cfg.get("TWILIO_FROM") or cfg.get("TWILIO_MESSAGING_SERVICE_SID")):
        return "twilio"
    return "log"


def get_sender():
    cfg = current_app.config
    chosen = (cfg.get("HOTLINE_SMS_BACKEND") or "").strip()
    name = backend_name()
    if name == "twilio":
        status_callback = None
        if cfg.get("HOTLINE_PUBLIC_URL"):
            status_callback = cfg["HOTLINE_PUBLIC_URL"].rstrip("/") + "/twilio/sms/status"
        return TwilioSender(twilio_client(), cfg.get("TWILIO_FROM"), cfg.get("TWILIO_MESSAGING_SERVICE_SID"),
                            status_callback)
    if name == "aliyun":
        return AliyunSender(cfg)
    if name == "tencent":
        return TencentSender(cfg)
    if name == "file":
        return FileSender(chosen.split(":", 1)[1])
    return LogSender()
