"""The `channels` job: what the voice channels still owe, each part committing as it goes.

Station-line moves Twilio did not take (hotline.radio.line), the automated 回访 calls that are due
(hotline.telephony.voice_survey), recordings to download and those past their keeping period
(hotline.telephony.recordings). Outside both packages because it spans them: the radio line builds on
telephony, and telephony knows nothing of the radio.
"""
from __future__ import annotations

from hotline.radio import line
from hotline.telephony import recordings, voice_survey


def run() -> dict[str, int]:
    stats: dict[str, int] = {}
    for prefix, part in (("line", line.push), ("survey", voice_survey.place_due),
                         ("recording", recordings.fetch_due), ("recording", recordings.purge)):
        for key, value in part().items():
            stats[f"{prefix}_{key}"] = value
    return stats
