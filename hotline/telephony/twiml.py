"""The TwiML of each branch, built with twilio.twiml.voice_response. `url` turns an endpoint into the
absolute URL Twilio will call (and sign) next."""
from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import VoiceResponse

from hotline.telephony.models import TelephonySettings

Url = Callable[..., str]
LANGUAGE = "zh-CN"


def _say(response: VoiceResponse, text: str | None) -> None:
    if text:
        response.say(text, language=LANGUAGE)


def queue(cfg: TelephonySettings, url: Url) -> VoiceResponse:
    """Office hours: greeting, then the operators' queue (hold music from the wait URL)."""
    response = VoiceResponse()
    _say(response, cfg.say_greeting_open)
    response.enqueue(cfg.queue_name, action=url("telephony.queue_left"), method="POST",
                     wait_url=url("telephony.queue_wait"), wait_url_method="POST")
    return response


def dial(cfg: TelephonySettings, url: Url) -> VoiceResponse:
    """Office hours with a number to ring instead of a queue (a small office, a desk phone)."""
    response = VoiceResponse()
    _say(response, cfg.say_greeting_open)
    target = cfg.dial_to or ""
    dialed = response.dial(action=url("telephony.dial_done"), method="POST", timeout=min(cfg.max_wait_seconds, 600))
    if target.startswith("sip:"):
        dialed.sip(target)
    elif target.startswith("client:"):
        dialed.client(target[7:])
    else:
        dialed.number(target)
    return response


def voicemail(cfg: TelephonySettings, url: Url, text: str) -> VoiceResponse:
    """After hours (or nobody free in time): the message is recorded and becomes a case."""
    response = VoiceResponse()
    _say(response, text)
    response.record(action=url("telephony.recorded"), method="POST", max_length=cfg.max_message_seconds,
                    timeout=10, finish_on_key="#", play_beep=True, trim="trim-silence",
                    recording_status_callback=url("telephony.recording"), recording_status_callback_method="POST",
                    recording_status_callback_event="completed absent")
    _say(response, cfg.say_no_message)  # reached only when nothing was recorded
    response.hangup()
    return response


def wait(cfg: TelephonySettings, queue_time: int) -> VoiceResponse:
    """Played in a loop while the caller waits; after the longest wait the caller leaves for voicemail."""
    response = VoiceResponse()
    left = cfg.max_wait_seconds - queue_time
    if left <= 0:
        response.leave()
        return response
    _say(response, cfg.say_wait)
    if cfg.hold_music_url:
        response.play(cfg.hold_music_url)
    else:
        response.pause(length=min(left, 20))
    return response


def thanks(cfg: TelephonySettings) -> VoiceResponse:
    response = VoiceResponse()
    _say(response, cfg.say_thanks)
    response.hangup()
    return response


def agent(cfg: TelephonySettings, bridged_url: str) -> VoiceResponse:
    """An operator's phone or softphone takes the next caller from the queue."""
    response = VoiceResponse()
    response.dial().queue(cfg.queue_name, url=bridged_url, method="POST")
    return response


def refuse(cfg: TelephonySettings) -> VoiceResponse:
    response = VoiceResponse()
    _say(response, cfg.say_not_operator)
    response.hangup()
    return response


def empty() -> VoiceResponse:
    return VoiceResponse()
