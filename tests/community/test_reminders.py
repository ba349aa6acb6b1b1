"""Room reminders: remind / forget, the calendar file, and one in-app notification per reminder at go-live."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import update

from community.reminders import GoLiveNotifier
from kernel.clock import FixedClock
from live.events import ROOMS_TOPIC, RoomStatusChanged
from live.models import Room
from tests.community.helpers import creator
from tests.factories import bearer, signed_in
from tests.live.helpers import end_room, go_live, schedule_room

HTML = {"Accept": "text/html"}


def reminder_url(room_id: str) -> str:
    return f"/api/community/rooms/{room_id}/reminder"


async def notifications(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/community/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def eventually_notified(client: AsyncClient, token: str, count: int) -> dict[str, Any]:
    """The go-live listener runs beside the request that made the room live; wait for it (up to 5 s)."""
    for _ in range(100):
        listing = await notifications(client, token)
        if len(listing["items"]) >= count:
            return listing
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} notifications, got {listing}")


async def upcoming_room(client: AsyncClient, clock: FixedClock, **fields: Any) -> tuple[dict[str, Any], str]:
    _, host = await creator(client)
    when = (clock.now() + timedelta(days=1)).isoformat()
    return await schedule_room(client, host, scheduled_for=when, **fields), host


async def test_remind_is_idempotent_shows_in_the_feed_and_can_be_withdrawn(
    client: AsyncClient, clock: FixedClock
) -> None:
    room, _ = await upcoming_room(client, clock)
    _, fan = await signed_in(client)
    first = await client.post(reminder_url(room["id"]), headers=bearer(fan))
    assert first.status_code == 201, first.text
    assert first.json() == {
        "room_id": room["id"],
        "reminded": True,
        "calendar_url": f"/community/rooms/{room['id']}/calendar.ics",
    }
    assert (await client.post(reminder_url(room["id"]), headers=bearer(fan))).status_code == 200
    feed = (await client.get("/api/community/feed", headers=bearer(fan))).json()
    assert [(r["id"], r["reminded"]) for r in feed["upcoming"]] == [(room["id"], True)]

    assert (await client.delete(reminder_url(room["id"]), headers=bearer(fan))).status_code == 204
    assert (await client.delete(reminder_url(room["id"]), headers=bearer(fan))).status_code == 204
    feed = (await client.get("/api/community/feed", headers=bearer(fan))).json()
    assert [r["reminded"] for r in feed["upcoming"]] == [False]


async def test_reminders_need_a_signed_in_user_and_an_upcoming_room(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    room, _ = await upcoming_room(client, clock)
    _, fan = await signed_in(client)
    assert (await client.post(reminder_url(room["id"]))).status_code == 401
    missing = "01900000-0000-7000-8000-000000000000"
    assert (await client.post(reminder_url(missing), headers=bearer(fan))).status_code == 404
    assert (await client.get(f"/community/rooms/{missing}/calendar.ics")).status_code == 404
    await go_live(app, room["id"])
    live = await client.post(reminder_url(room["id"]), headers=bearer(fan))
    assert live.status_code == 409 and live.json()["type"] == "/problems/room_not_upcoming"
    await end_room(app, room["id"])
    assert (await client.post(reminder_url(room["id"]), headers=bearer(fan))).status_code == 409
    assert (await notifications(client, fan))["items"] == []


async def test_going_live_notifies_each_reminder_exactly_once(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    room, _ = await upcoming_room(client, clock, title="Spring haul")
    other, _ = await upcoming_room(client, clock)
    fans = [(await signed_in(client))[1] for _ in range(3)]
    for fan in fans[:2]:
        assert (await client.post(reminder_url(room["id"]), headers=bearer(fan))).status_code == 201
    assert (await client.post(reminder_url(other["id"]), headers=bearer(fans[2]))).status_code == 201

    await go_live(app, room["id"])
    listing = await eventually_notified(client, fans[0], 1)
    [note] = listing["items"]
    assert note["kind"] == "room_live" and note["text"] == "Spring haul is live now"
    assert note["url"] == f"/live/rooms/{room['id']}" and note["read"] is False and listing["unread"] == 1
    await eventually_notified(client, fans[1], 1)

    # Every worker hears the event; a second and third hearing, even at the same time, notify nobody again.
    event = RoomStatusChanged(room["id"], "host", "Spring haul", "live", clock.now().isoformat())
    notifier = GoLiveNotifier(app.state.bus.channels, app.state.db, clock)
    assert await asyncio.gather(notifier.handle(event), notifier.handle(event)) == [0, 0]
    app.state.bus.publish(ROOMS_TOPIC, event)
    await asyncio.sleep(0.2)
    for fan in fans[:2]:
        assert len((await notifications(client, fan))["items"]) == 1
    assert (await notifications(client, fans[2]))["items"] == []  # reminded of another room

    # Three workers hearing the other room go live at the same moment split its reminders: none twice.
    late_fans = [(await signed_in(client))[1] for _ in range(3)]
    for fan in late_fans:
        assert (await client.post(reminder_url(other["id"]), headers=bearer(fan))).status_code == 201
    went_live = RoomStatusChanged(other["id"], "host", "Show", "live", clock.now().isoformat())
    workers = [GoLiveNotifier(app.state.bus.channels, app.state.db, clock) for _ in range(3)]
    assert sum(await asyncio.gather(*(w.handle(went_live) for w in workers))) == 4
    for fan in [fans[2], *late_fans]:
        assert len((await notifications(client, fan))["items"]) == 1


async def test_notifications_are_marked_read_by_id_or_all(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    rooms = [(await upcoming_room(client, clock))[0] for _ in range(2)]
    _, fan = await signed_in(client)
    _, stranger = await signed_in(client)
    for room in rooms:
        await client.post(reminder_url(room["id"]), headers=bearer(fan))
        await go_live(app, room["id"])
    listing = await eventually_notified(client, fan, 2)
    first = listing["items"][0]["id"]
    assert (
        await client.post("/api/community/notifications/read", json={"ids": [first]}, headers=bearer(stranger))
    ).status_code == 404
    marked = await client.post("/api/community/notifications/read", json={"ids": [first]}, headers=bearer(fan))
    assert marked.status_code == 200 and marked.json() == {"unread": 1}
    bad = await client.post("/api/community/notifications/read", json={"ids": [first], "x": 1}, headers=bearer(fan))
    assert bad.status_code == 400
    assert (await client.post("/api/community/notifications/read", json={}, headers=bearer(fan))).json() == {
        "unread": 0
    }
    assert [n["read"] for n in (await notifications(client, fan))["items"]] == [True, True]
    assert (await client.get("/api/community/notifications")).status_code == 401


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical), "a line is longer than 75 octets"
    return text.replace("\r\n ", "").split("\r\n")[:-1]


async def test_calendar_file_is_valid_icalendar_with_escaped_text(client: AsyncClient, clock: FixedClock) -> None:
    title = 'Sale; 50% off, "today" \\ only — ünïcode ' + "x" * 60
    room, _ = await upcoming_room(client, clock, title=title[:120], description="Line one\nline two")
    # The server answers on port 8100 here, as with `make run PORT=8100`: the event links back to that address.
    response = await client.get(f"http://127.0.0.1:8100/community/rooms/{room['id']}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    lines = unfold(response.text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    props = dict(line.split(":", 1) for line in lines)
    assert {"VERSION", "PRODID", "UID", "DTSTAMP", "DTSTART", "SUMMARY", "URL"} <= set(props)
    assert lines.index("BEGIN:VEVENT") < lines.index("END:VEVENT")
    assert props["VERSION"] == "2.0" and props["UID"] == f"room-{room['id']}@127.0.0.1"
    start = datetime.strptime(props["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert start == clock.now() + timedelta(days=1)
    assert props["DTSTAMP"] == clock.now().strftime("%Y%m%dT%H%M%SZ")
    assert props["SUMMARY"] == 'Sale\\; 50% off\\, "today" \\\\ only — ünïcode ' + "x" * 60
    assert props["URL"] == f"http://127.0.0.1:8100/live/rooms/{room['id']}"
    assert "Line one\\nline two" in response.text.replace("\r\n ", "")


async def test_notifications_page_and_header_badge(app: Litestar, client: AsyncClient, clock: FixedClock) -> None:
    room, _ = await upcoming_room(client, clock, title="<b>Night</b> market")
    fan, token = await signed_in(client)
    await client.post(reminder_url(room["id"]), headers=bearer(token))
    await go_live(app, room["id"])
    await eventually_notified(client, token, 1)
    client.cookies.clear()
    await client.post("/api/auth/login", json={"email": fan["email"], "password": "correct horse battery"})
    page = await client.get("/community/notifications", headers=HTML)
    assert page.status_code == 200
    assert "&lt;b&gt;Night&lt;/b&gt; market is live now" in page.text and "<b>Night" not in page.text
    assert 'data-testid="notification-count">1<' in page.text
    badge = await client.get("/community/notifications/badge")
    assert 'data-testid="notification-count">1<' in badge.text
    home = await client.get("/", headers=HTML)
    assert 'data-testid="notification-count">1<' in home.text
    token_in_page = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token_in_page, "the mark-all-read form carries no CSRF token"
    read = await client.post(
        "/community/notifications/read", data={"_csrf_token": token_in_page.group(1)}, follow_redirects=False
    )
    assert read.status_code == 303
    assert (await notifications(client, token))["unread"] == 0
    client.cookies.clear()
    assert (await client.get("/community/notifications", headers=HTML, follow_redirects=False)).status_code in (
        302,
        303,
    )


async def test_room_statuses_other_than_live_notify_nobody(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    room, _ = await upcoming_room(client, clock)
    _, fan = await signed_in(client)
    await client.post(reminder_url(room["id"]), headers=bearer(fan))
    app.state.bus.publish(ROOMS_TOPIC, RoomStatusChanged(room["id"], "h", "t", "ended", clock.now().isoformat()))
    await asyncio.sleep(0.2)
    assert (await notifications(client, fan))["items"] == []


async def test_a_go_live_the_bus_lost_is_notified_by_the_sweeper(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    await app.state.sweeper.stop()  # the rounds below are the test's own, not the background loop's
    room, _ = await upcoming_room(client, clock, title="Quiet start")
    _, fan = await signed_in(client)
    await client.post(reminder_url(room["id"]), headers=bearer(fan))
    async with app.state.db.transaction() as session:  # live, but nobody heard about it
        await session.execute(update(Room).where(Room.id == UUID(room["id"])).values(status="live"))
    assert (await notifications(client, fan))["items"] == []
    assert (await app.state.sweeper.run_once())["missed_room_reminders"] == 1
    assert (await app.state.sweeper.run_once())["missed_room_reminders"] == 0
    assert [n["text"] for n in (await notifications(client, fan))["items"]] == ["Quiet start is live now"]
