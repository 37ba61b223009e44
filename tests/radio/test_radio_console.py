"""The radio console cannot mislead (issue 17): a countdown only during the show, a warning before starting
an episode outside its slot, dated logs, buttons named as actions, and no blue button that puts an
unscreened caller on air."""
from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import csrf_from, get_user, local
from hotline.extensions import db
from hotline.radio import schedule, service

SATURDAY = date(2026, 12, 5)


@pytest.fixture
def show_id(app, users, clock):
    clock.set(local(2026, 12, 4, 13, 30))  # Friday, the day before Saturday's 13:30 show
    with app.app_context():
        schedule.ensure_defaults()
        episode = schedule.episode_for(schedule.programme_of_kind("live"), SATURDAY)
        db.session.commit()
        return episode.id


def test_no_countdown_the_day_before_and_starting_early_needs_a_confirmation(app, login, show_id, clock):
    client = login(app.test_client(), "producer", lang="zh")
    page = client.get(f"/radio/episodes/{show_id}").get_data(as_text=True)
    assert "data-show-clock" not in page and "节目剩余时间" not in page
    assert "周六 12-05 13:30" in page and "不在节目时段" in page
    token = csrf_from(page)
    resp = client.post(f"/radio/episodes/{show_id}/start", data={"csrf_token": token})
    assert resp.status_code == 409 and "不是现在" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(service.Episode, show_id).status == "planned"
    resp = client.post(f"/radio/episodes/{show_id}/start", data={"csrf_token": token, "outside_ok": "1"})
    assert resp.status_code == 302
    page = client.get(f"/radio/episodes/{show_id}").get_data(as_text=True)
    assert "data-show-clock" in page  # live now: the countdown shows


def test_in_the_slot_the_show_starts_without_a_question(app, login, show_id, clock):
    clock.set(local(2026, 12, 5, 13, 25))
    client = login(app.test_client(), "producer", lang="zh")
    page = client.get(f"/radio/episodes/{show_id}").get_data(as_text=True)
    assert "不在节目时段" not in page
    resp = client.post(f"/radio/episodes/{show_id}/start", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302


def test_the_primary_button_never_puts_an_unscreened_caller_on_air(app, login, show_id, clock):
    clock.set(local(2026, 12, 5, 13, 31))
    with app.app_context():
        ep = db.session.get(service.Episode, show_id)
        service.start_episode(get_user("producer"), ep)
        service.add_callin(get_user("producer"), ep, {"phone": "13812345678", "name": "未筛选"}, status="ringing")
        ready = service.add_callin(get_user("producer"), ep, {"phone": "13912345678", "name": "已待播"},
                                   status="screening")
        service.move(get_user("producer"), ready, "ready", ready.version, "")
        db.session.commit()
    client = login(app.test_client(), "producer", lang="zh")
    page = client.get(f"/radio/episodes/{show_id}").get_data(as_text=True)
    ringing = page[page.index("未筛选"):]
    ringing = ringing[:ringing.index("</article>")]
    primaries = re.findall(r'class="small primary"[^>]*>([^<]+)', ringing)
    assert primaries == ["开始筛选"]
    ready_card = page[page.index("已待播"):]
    ready_card = ready_card[:ready_card.index("</article>")]
    assert re.findall(r'class="small primary"[^>]*>([^<]+)', ready_card) == ["接入直播"]
    buttons = re.findall(r"<button[^>]*>([^<]+)", page)
    assert "直播中" not in [b.strip() for b in buttons]  # a state is not an action


def test_the_episode_log_is_dated_and_says_duration(app, login, show_id, clock):
    client = login(app.test_client(), "producer", lang="zh")
    page = client.get(f"/radio/episodes/{show_id}/log").get_data(as_text=True)
    assert "2026-12-05 周六" in page and "时长" in page and "长度" not in page
