"""Live alerts: a creator's followers are told in-app when the creator goes live, once each, unless they turned the
alert off for that creator (through the API or the follow box on the creator's page)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from httpx import AsyncClient
from litestar import Litestar

from community.reminders import GoLiveNotifier, notify_missed
from kernel.clock import FixedClock
from live.events import RoomStatusChanged
from tests.community.test_reminders import eventually_notified, notifications, reminder_url
from tests.factories import bearer, login, signed_in, signup
from tests.live.helpers import go_live, schedule_room
from tests.pages import HTML, HTMX, browse_as, csrf_token


def follow_url(creator_id: str) -> str:
    return f"/api/community/creators/{creator_id}/follow"


async def test_followers_are_told_once_when_the_creator_goes_live_unless_they_turned_it_off(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    host = await signup(client, ["influencer"], display_name="Nina Live")
    host_token = await login(client, host["email"])
    room = await schedule_room(
        client, host_token, title="Gadget hour", scheduled_for=(clock.now() + timedelta(hours=1)).isoformat()
    )
    fan, quiet, reminded, stranger = [(await signed_in(client))[1] for _ in range(4)]
    for token in (fan, quiet, reminded):
        followed = await client.post(follow_url(host["id"]), headers=bearer(token))
        assert followed.json()["live_alerts"] is True
    off = await client.patch(follow_url(host["id"]), json={"live_alerts": False}, headers=bearer(quiet))
    assert off.status_code == 200 and off.json() == {
        "creator_id": host["id"],
        "following": True,
        "follower_count": 3,
        "live_alerts": False,
    }
    assert (await client.post(reminder_url(room["id"]), headers=bearer(reminded))).status_code == 201

    await go_live(app, room["id"])

    [note] = (await eventually_notified(client, fan, 1))["items"]
    assert note["kind"] == "followed_live" and note["text"] == "Nina Live is live: Gadget hour"
    assert note["url"] == f"/live/rooms/{room['id']}"
    [reminder] = (await eventually_notified(client, reminded, 1))["items"]  # the reminder says it; once is enough
    assert reminder["kind"] == "room_live"
    # Every worker hears the go-live, and the sweeper looks again: nobody is told twice.
    event = RoomStatusChanged(room["id"], host["id"], "Gadget hour", "live", clock.now().isoformat())
    workers = [GoLiveNotifier(app.state.bus.channels, app.state.db, clock) for _ in range(3)]
    assert await asyncio.gather(*(w.handle(event) for w in workers)) == [0, 0, 0]
    assert await notify_missed(app.state.db, clock) == 0
    assert len((await notifications(client, fan))["items"]) == 1
    assert len((await notifications(client, reminded))["items"]) == 1
    assert (await notifications(client, quiet))["items"] == []
    assert (await notifications(client, stranger))["items"] == []


async def test_live_alerts_can_only_be_set_for_a_followed_creator(client: AsyncClient) -> None:
    host, _ = await signed_in(client, ["influencer"])
    _, fan = await signed_in(client)

    not_following = await client.patch(follow_url(host["id"]), json={"live_alerts": False}, headers=bearer(fan))
    anonymous = await client.patch(follow_url(host["id"]), json={"live_alerts": False})
    await client.post(follow_url(host["id"]), headers=bearer(fan))
    bad = await client.patch(follow_url(host["id"]), json={"live_alerts": "nope"}, headers=bearer(fan))
    unknown = await client.patch(follow_url(host["id"]), json={"live_alerts": False, "x": 1}, headers=bearer(fan))

    assert not_following.status_code == 404 and not_following.json()["type"] == "/problems/not_following"
    assert anonymous.status_code == 401
    assert bad.status_code == 400 and unknown.status_code == 400
    profile = await client.get(f"/api/community/creators/{host['id']}", headers=bearer(fan))
    assert profile.json()["following"] is True and profile.json()["live_alerts"] is True  # nothing changed


async def test_the_creator_page_turns_live_alerts_off_and_on(client: AsyncClient) -> None:
    host, _ = await signed_in(client, ["influencer"])
    await browse_as(client)
    token = await csrf_token(client, f"/creators/{host['id']}")
    form = {"_csrf_token": token}
    await client.post(f"/creators/{host['id']}/follow", data={**form, "following": "false"}, headers=HTML)
    page = await client.get(f"/creators/{host['id']}", headers=HTML)
    assert re.search(r'data-testid="live-alerts-button">Live alerts: on<', page.text)

    swapped = await client.post(
        f"/creators/{host['id']}/live-alerts", data={"live_alerts": "off"}, headers={**HTMX, "x-csrftoken": token}
    )
    assert swapped.status_code == 200 and 'data-testid="live-alerts-button">Live alerts: off<' in swapped.text
    assert "<html" not in swapped.text
    plain = await client.post(
        f"/creators/{host['id']}/live-alerts", data={**form, "live_alerts": "on"}, headers=HTML, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"/creators/{host['id']}"
    page = await client.get(f"/creators/{host['id']}", headers=HTML)
    assert 'data-testid="live-alerts-button">Live alerts: on<' in page.text
