"""A live show in real browsers: the host schedules a room and goes live from the studio with Chromium's fake camera,
a buyer watches the video, chats (the host sees it) and buys the pinned product from the in-page checkout.

WebRTC runs inside a network namespace that has only loopback (tests/live/netns.py): the server, the Playwright
driver and Chromium are all started from this thread after it entered the namespace, so they live there too, and
the server offers only 127.0.0.1 as its ICE host address. Nothing here can reach another interface.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.e2e.audit import VIEWPORTS, open_audited
from tests.e2e.server import CHROMIUM_ARGS, LiveServer
from tests.live.netns import NamespaceUnavailable, loopback_only

pytestmark = pytest.mark.browser

WEBRTC_ARGS = [
    "--use-fake-ui-for-media-stream",  # grant camera and microphone without a prompt
    "--use-fake-device-for-media-stream",  # a synthetic camera and microphone
    "--allow-loopback-in-peer-connection",  # loopback is the only interface in the namespace
]
STEP_MS = 15_000  # the longest any single step may take; the whole journey finishes well within a minute
HOST = next(a for a in DEMO_ACCOUNTS if "influencer" in a.roles)
BUYER = next(a for a in DEMO_ACCOUNTS if a.roles == ("buyer",))
CHATTER = next(a for a in DEMO_ACCOUNTS if "influencer" in a.roles and a != HOST)
PRODUCT = "Everyday canvas tote"
# Run in the host's page: schedule a room with the first catalog product through the JSON API, answer its id.
SCHEDULE_A_ROOM = """async () => {
  const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"];
  const products = (await (await fetch("/api/shop/products?limit=1")).json()).items.map(p => p.id);
  const response = await fetch("/api/live/rooms", {
    method: "POST",
    headers: {"Content-Type": "application/json", "x-csrftoken": csrf},
    body: JSON.stringify({title: "Quick show", product_ids: products}),
  });
  return (await response.json()).id;
}"""


@pytest.fixture(scope="module")
def namespace() -> Iterator[None]:
    try:
        with loopback_only(f"lc-e2e-{uuid.uuid4().hex[:8]}"):
            yield
    except NamespaceUnavailable as exc:
        pytest.skip(f"WebRTC browser tests need a loopback-only network namespace: {exc}")


@pytest.fixture(scope="module")
def server(namespace: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, inside the namespace, on SQLite, offering ICE on 127.0.0.1 only."""
    srv = LiveServer(tmp_path_factory.mktemp("live-e2e"))
    srv.env["LIVECOMMERCE_ICE_HOST_ADDRESSES"] = "127.0.0.1"
    # The cheapest argon2id for the demo accounts, so signing in takes milliseconds, not seconds.
    srv.env["LIVECOMMERCE_PASSWORD_TIME_COST"] = "1"
    srv.env["LIVECOMMERCE_PASSWORD_MEMORY_KIB"] = "1024"
    with srv:
        yield srv


@pytest.fixture(scope="module")
def webrtc_browser(namespace: None, chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, *WEBRTC_ARGS])
        yield browser
        browser.close()


def signed_in_page(browser: Browser, server: LiveServer, email: str, errors: list[str]) -> Page:
    context = browser.new_context(base_url=server.base_url)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    page.on("console", lambda m: _keep_error(m, errors, email))
    page.on("pageerror", lambda e: errors.append(f"{email}: {e}"))
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    return page


def _keep_error(message: ConsoleMessage, errors: list[str], who: str) -> None:
    if message.type == "error":
        errors.append(f"{who}: {message.text}")


def test_host_goes_live_and_a_buyer_watches_chats_and_buys_the_pinned_product(
    webrtc_browser: Browser, server: LiveServer, tmp_path: Path
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    buyer = signed_in_page(webrtc_browser, server, BUYER.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    title = f"Tote bag live {uuid.uuid4().hex[:6]}"

    # The host schedules a room with one product from the studio, and lands on its control desk.
    host.get_by_test_id("user-menu").locator("summary").click()
    host.get_by_role("link", name="Studio", exact=True).click()
    host.get_by_label("Title").fill(title)
    host.get_by_label("Search the catalog").fill("canvas tote")
    host.get_by_role("button", name=f"Add {PRODUCT}").click()
    expect(host.get_by_test_id("picked-products")).to_contain_text(PRODUCT)
    host.get_by_role("button", name="Schedule room").click()
    host.wait_for_url(re.compile(r"/live/studio/[0-9a-f-]{36}$"))
    room_id = host.url.rsplit("/", 1)[1]
    expect(host.get_by_test_id("stream-key")).to_have_value(re.compile(r".{32,}"))

    # Go live from the fake camera over WHIP; the room turns live when the media arrives.
    host.get_by_role("button", name="Go live").click()
    expect(host.get_by_test_id("room-status")).to_have_text("LIVE")
    host.get_by_role("button", name=f"Pin {PRODUCT}").click()
    expect(host.get_by_test_id("pinned")).to_contain_text(PRODUCT)

    # The buyer finds the room on /live and plays the video over WHEP.
    buyer.get_by_role("link", name="Live", exact=True).click()
    buyer.get_by_test_id("room-card").filter(has_text=title).click()
    buyer.wait_for_url(f"**/live/rooms/{room_id}")
    expect(buyer.get_by_test_id("room-status")).to_have_text("LIVE")
    video = buyer.get_by_test_id("room-video")
    buyer.wait_for_function("v => v.videoWidth > 0 && v.currentTime > 0", arg=video.element_handle(), timeout=STEP_MS)
    started = video.evaluate("v => v.currentTime")
    buyer.wait_for_function(f"v => v.currentTime > {started} + 0.5", arg=video.element_handle(), timeout=STEP_MS)
    expect(host.get_by_test_id("viewer-count")).not_to_have_text("0")

    # Chat: the buyer's message reaches the host's studio.
    buyer.get_by_label("Message").fill("Does the tote come in green?")
    buyer.get_by_label("Message").press("Enter")
    expect(host.get_by_test_id("chat-log")).to_contain_text("Does the tote come in green?")
    expect(buyer.get_by_test_id("chat-log")).to_contain_text("Does the tote come in green?")

    # Buy the pinned product without leaving the video: the quick-buy form opens beside it.
    buyer.get_by_test_id("pinned").get_by_role("button", name="Buy").click()
    checkout = buyer.get_by_test_id("room-checkout")
    checkout.get_by_label("Street address").fill("1 Main St")
    checkout.get_by_label("City").fill("Springfield")
    checkout.get_by_label("Postal code").fill("12345")
    checkout.get_by_role("button", name="Pay now").click()
    expect(checkout.get_by_test_id("quick-buy-placed")).to_be_visible()
    assert buyer.url.endswith(f"/live/rooms/{room_id}")
    assert video.evaluate("v => !v.paused && v.videoWidth > 0"), "the video stopped during checkout"
    expect(buyer.get_by_test_id("stage")).to_be_visible()

    # The order came from the room: its line's source names it (read through the API with the buyer's session).
    orders = json.loads(buyer.evaluate("async () => await (await fetch('/api/shop/orders')).text()"))
    line = next(item for order in orders["items"] for item in order["items"] if item["title"] == PRODUCT)
    assert line["source"] == {"room_id": room_id}

    # The room hears of the sale: the host's ticker names the product, and both pages show the stock left.
    expect(host.get_by_test_id("ticker")).to_contain_text(f"just bought {PRODUCT}")
    expect(buyer.get_by_test_id("pinned")).to_contain_text("119 in stock")

    # A live deal from the studio reaches the buyer with its countdown; a deleted message leaves the buyer's chat.
    host.get_by_label("Deal price").fill("19.50")
    host.get_by_label("Quantity").fill("3")
    host.get_by_role("button", name="Start deal").click()
    deal = buyer.get_by_test_id("deals")
    expect(deal).to_contain_text("$19.50")
    expect(deal).to_contain_text("3 of 3 left")
    expect(deal).to_contain_text(re.compile(r"Ends in [45]:\d\d"))
    host.get_by_role("button", name=f"Delete {BUYER.name}").click()
    expect(buyer.get_by_test_id("chat-log")).not_to_contain_text("Does the tote come in green?")

    # The host ends the show; the buyer's page says so.
    host.get_by_role("button", name="End show").click()
    expect(host.get_by_test_id("room-status")).to_have_text("Ended")
    expect(buyer.get_by_test_id("room-status")).to_have_text("Ended")
    expect(buyer.locator('[data-role="overlay"]')).to_contain_text("This show has ended")
    assert not errors, errors


def test_a_flooding_viewer_is_told_to_slow_down_and_the_host_mutes_then_bans_them(
    webrtc_browser: Browser, server: LiveServer
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    viewer = signed_in_page(webrtc_browser, server, CHATTER.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    room_id = host.evaluate(SCHEDULE_A_ROOM)
    host.goto(f"/live/studio/{room_id}")
    viewer.goto(f"/live/rooms/{room_id}")
    expect(viewer.get_by_text("Connected")).to_be_visible()

    # Five messages per ten seconds: the sixth comes back as an error frame, shown beside the form.
    message = viewer.get_by_label("Message")
    for n in range(6):
        message.fill(f"Buy buy buy {n}")
        message.press("Enter")
    expect(viewer.locator('[data-role="chat-error"]')).to_have_text("You are sending messages too fast.")
    expect(host.get_by_test_id("chat-log")).to_contain_text("Buy buy buy 4")

    # Muted from the studio's chat list: the viewer is told and the form is disabled.
    host.get_by_role("button", name=f"Mute {CHATTER.name}").first.click()
    expect(viewer.locator('[data-role="chat-notice"]')).to_have_text("The host muted you in this room.")
    expect(message).to_be_disabled()

    # Banned: the channel closes the viewer's socket for good and their messages leave the host's list.
    host.get_by_role("button", name=f"Ban {CHATTER.name}").first.click()
    expect(viewer.locator('[data-role="chat-notice"]')).to_have_text("You were removed from this room's chat.")
    expect(host.get_by_test_id("chat-log")).not_to_contain_text("Buy buy buy")
    expect(viewer.get_by_text("Disconnected")).to_be_visible()
    assert not errors, errors


def test_the_studio_can_send_h264_as_obs_does_and_viewers_still_get_a_picture(
    webrtc_browser: Browser, server: LiveServer
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    viewer = signed_in_page(webrtc_browser, server, BUYER.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    room_id = host.evaluate(SCHEDULE_A_ROOM)
    host.goto(f"/live/studio/{room_id}")

    host.get_by_label("Send H264 (as OBS does)").check()
    host.get_by_role("button", name="Go live").click()
    expect(host.get_by_test_id("room-status")).to_have_text("LIVE")
    expect(host.get_by_test_id("send-stats")).to_contain_text("Sending H264")

    viewer.goto(f"/live/rooms/{room_id}")
    video = viewer.get_by_test_id("room-video")
    viewer.wait_for_function("v => v.videoWidth > 0 && v.currentTime > 0", arg=video.element_handle(), timeout=STEP_MS)
    host.get_by_role("button", name="End show").click()
    expect(viewer.get_by_test_id("room-status")).to_have_text("Ended")
    assert not errors, errors


# Run in the buyer's page: buy one of the room's products through the JSON API, with the room as the source; answers
# the HTTP status.
BUY_FROM_ROOM = """async ([roomId, productId]) => {
  const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"];
  const response = await fetch("/api/shop/checkout", {
    method: "POST",
    headers: {"Content-Type": "application/json", "x-csrftoken": csrf, "Idempotency-Key": crypto.randomUUID()},
    body: JSON.stringify({
      items: [{product_id: productId, quantity: 1}],
      shipping_address: {name: "Sam", line1: "1 Main St", city: "Springfield", postal_code: "12345", country: "US"},
      payment: {method: "sandbox", token: "tok_ok"},
      source: {room_id: roomId},
    }),
  });
  return response.status;
}"""


def test_the_desk_opened_before_going_live_counts_the_show_as_it_happens(
    webrtc_browser: Browser, server: LiveServer
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    buyer = signed_in_page(webrtc_browser, server, BUYER.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    room_id = host.evaluate(SCHEDULE_A_ROOM)
    host.goto(f"/live/studio/{room_id}")  # the usual order: open the desk, then go live
    expect(host.get_by_test_id("stat-orders")).to_have_text("0")

    host.get_by_role("button", name="Go live").click()
    expect(host.get_by_test_id("room-status")).to_have_text("LIVE")
    buyer.goto(f"/live/rooms/{room_id}")
    expect(host.get_by_test_id("stat-viewers")).not_to_have_text("0")
    product_id = json.loads(buyer.locator("#room-data").text_content())["products"].popitem()[0]
    assert buyer.evaluate(BUY_FROM_ROOM, [room_id, product_id]) == 201

    # Without a reload, well inside the 10 s poll: the sale's frame refreshes the desk.
    expect(host.get_by_test_id("stat-orders")).to_have_text("1", timeout=5_000)
    host.get_by_role("button", name="End show").click()
    expect(host.get_by_test_id("room-status")).to_have_text("Ended")
    assert not errors, errors


def test_ending_the_show_makes_every_open_page_read_only_and_its_deal_unbuyable(
    webrtc_browser: Browser, server: LiveServer
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    buyer = signed_in_page(webrtc_browser, server, BUYER.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    room_id = host.evaluate(SCHEDULE_A_ROOM)
    host.goto(f"/live/studio/{room_id}")
    host.get_by_role("button", name="Go live").click()
    expect(host.get_by_test_id("room-status")).to_have_text("LIVE")
    host.locator("[data-pin]").first.click()
    host.get_by_label("Deal price").fill("1.00")
    host.get_by_role("button", name="Start deal").click()

    buyer.goto(f"/live/rooms/{room_id}")
    deal = buyer.get_by_test_id("deals")
    expect(deal.get_by_role("button", name="Buy at this price")).to_be_enabled()
    expect(buyer.get_by_test_id("pinned").get_by_role("button", name="Buy")).to_be_enabled()
    expect(buyer.get_by_test_id("viewer-count")).not_to_have_text("0")
    deal_id = deal.locator("[data-deal-id]").get_attribute("data-deal-id")
    product_id = deal.locator("[data-buy]").get_attribute("data-buy")
    listing = buyer.context.new_page()  # the buyer also has /live open in another tab
    listing.on("pageerror", lambda e: errors.append(f"listing: {e}"))
    listing.goto("/live")
    card = listing.locator(f'[data-room-card="{room_id}"]')
    expect(card.locator('[data-role="room-badge"]')).to_have_text("LIVE")

    host.get_by_role("button", name="End show").click()
    expect(card.locator('[data-role="room-badge"]')).to_have_text("Ended")  # no reload
    expect(card).to_contain_text("Ended")
    expect(buyer.get_by_test_id("room-status")).to_have_text("Ended")
    # The buyer, still connected, sees nothing on sale and nobody watching; the chat is closed.
    expect(deal).to_contain_text("Ended")
    expect(deal.get_by_role("button", name="Buy at this price")).to_have_count(0)
    expect(buyer.get_by_test_id("pinned").get_by_role("button", name="Buy")).to_have_count(0)
    expect(buyer.locator("[data-buy]:enabled")).to_have_count(0)
    expect(buyer.get_by_test_id("viewer-count")).to_have_text("0")
    expect(buyer.get_by_label("Message")).to_be_disabled()
    # The studio offers no way back on air.
    expect(host.get_by_test_id("room-status")).to_have_text("Ended")
    expect(host.get_by_role("button", name="Go live")).to_be_disabled()
    expect(host.get_by_test_id("viewer-count")).to_have_text("0")
    host.wait_for_timeout(1_000)  # a WHIP session torn down late must not hand the button back
    expect(host.get_by_role("button", name="Go live")).to_be_disabled()
    # And the server refuses the deal price to a buyer who tries anyway.
    # (through the context's request API: a refused fetch in the page would log a console error)
    csrf = json.loads(buyer.locator("body").get_attribute("hx-headers"))["x-csrftoken"]
    refused = buyer.context.request.post(
        "/api/shop/checkout",
        headers={"x-csrftoken": csrf, "Idempotency-Key": uuid.uuid4().hex},
        data={
            "items": [{"product_id": product_id, "quantity": 1, "deal_id": deal_id}],
            "shipping_address": {"name": "Sam", "line1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"},
            "payment": {"method": "sandbox", "token": "tok_ok"},
            "source": {"room_id": room_id},
        },
    )
    assert refused.status == 422 and refused.json()["type"].endswith("deal_ended"), refused.text()
    # A fresh load of the ended room offers nothing to buy either.
    buyer.reload()
    expect(buyer.get_by_test_id("room-status")).to_have_text("Ended")
    expect(buyer.locator("[data-buy]")).to_have_count(0)
    assert not errors, errors


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_follower_is_told_in_app_when_the_creator_goes_live(
    webrtc_browser: Browser, server: LiveServer, viewport: str
) -> None:
    errors: list[str] = []
    host = signed_in_page(webrtc_browser, server, HOST.email, errors)
    host.on("dialog", lambda dialog: dialog.accept())
    host_id = json.loads(host.evaluate("async () => await (await fetch('/api/me')).text()"))["id"]
    follower, context = open_audited(webrtc_browser, server.base_url, viewport)
    try:
        page = follower.page
        page.goto("/signup")
        page.get_by_label("Display name").fill("Fay Follower")
        page.get_by_label("Email").fill(f"fay-{uuid.uuid4().hex[:8]}@example.test")
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_test_id("signed-in-as")).to_have_text("Fay Follower")

        # Follow the creator: live alerts come on with the follow, and can be turned off beside it.
        page.goto(f"/creators/{host_id}")
        page.get_by_test_id("follow-button").click()
        expect(page.get_by_test_id("live-alerts-button")).to_have_text("Live alerts: on")
        follower.check()

        room_id = host.evaluate(SCHEDULE_A_ROOM)
        host.goto(f"/live/studio/{room_id}")
        host.get_by_role("button", name="Go live").click()
        expect(host.get_by_test_id("room-status")).to_have_text("LIVE")

        # The follower's header counts the alert; the alert leads to the room.
        page.goto("/")
        expect(page.get_by_test_id("notification-count")).to_have_text("1")
        page.get_by_role("link", name=re.compile(r"^Alerts")).click()
        alert = page.get_by_test_id("notification").first
        expect(alert).to_contain_text(f"{HOST.name} is live: Quick show")
        follower.check()
        alert.get_by_role("link").click()
        page.wait_for_url(f"**/live/rooms/{room_id}")
        expect(page.get_by_test_id("room-status")).to_have_text("LIVE")
        host.get_by_role("button", name="End show").click()
        expect(page.get_by_test_id("room-status")).to_have_text("Ended")
        assert not follower.errors, follower.errors
    finally:
        context.close()
    assert not errors, errors
