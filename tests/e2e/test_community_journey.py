"""The community in a real browser: a creator writes a post with an embedded product in the editor (live preview),
a buyer follows the creator on their profile, opens the post from the fan zone, watches the card follow a price change,
and buys from the card without leaving the post; the order's source is the post. Then the XSS corpus, in a post
and its comments, is loaded with the Content-Security-Policy stripped, so only the sanitiser stands between the
payloads and the page: no dialog may open and ``window.__xss`` must stay unset.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from tests.community.xss_corpus import PAYLOADS
from tests.e2e.test_shop_journey import PASSWORD, list_product, sign_up

pytestmark = pytest.mark.browser


def _context_page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def creator_page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _context_page(browser, live_server)


@pytest.fixture
def buyer_page(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _context_page(browser, live_server)


def sign_up_creator(page: Page, live_server: str, name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("input[name=roles][value=influencer]").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/")


def api_account(page: Page, roles: list[str]) -> str:
    """An account made through the JSON API; the page's context is signed in as it. Returns a bearer token."""
    email = f"api-{uuid.uuid4().hex[:10]}@example.test"
    body = {"email": email, "password": PASSWORD, "display_name": "Api User", "roles": roles}
    assert page.request.post("/api/auth/signup", data=body).status == 201
    login = page.request.post("/api/auth/login", data={"email": email, "password": PASSWORD})
    assert login.status == 200
    return str(login.json()["token"])


def test_creator_posts_buyer_follows_and_buys_from_the_embedded_card(
    page: Page, creator_page: Page, buyer_page: Page, live_server: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Embedded mug {tag}"
    seller, creator, buyer = page, creator_page, buyer_page
    errors: list[str] = []  # CSP violations (inline script or style) and script errors on the community pages
    for viewer in (creator, buyer):
        viewer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        viewer.on("pageerror", lambda e: errors.append(e.message))

    sign_up(seller, live_server, "Jo Maker", seller=True)
    list_product(seller, title)  # $20.00, 3 in stock, 10% creator commission
    found = seller.request.get(f"/api/shop/products?q={tag}").json()["items"]
    product_id = found[0]["id"]

    sign_up_creator(creator, live_server, "Rae Writer")
    creator.get_by_test_id("user-menu").locator("summary").click()
    creator.get_by_role("link", name="Write", exact=True).click()
    creator.get_by_role("link", name="New post").click()
    creator.get_by_label("Title").fill(f"My desk setup {tag}")
    creator.get_by_label("Post (Markdown)").fill(f"Coffee tastes **better** from this:\n\n[[product:{product_id}]]\n")
    preview = creator.get_by_test_id("preview")
    expect(preview.locator("strong").first).to_have_text("better")
    expect(preview.get_by_test_id("post-product")).to_contain_text(title)
    creator.get_by_label("Hashtags").fill("#desk #coffee")
    creator.get_by_role("button", name="Publish").click()
    creator.wait_for_url(re.compile(r"/posts/[0-9a-f-]{36}$"))
    post_id = creator.url.rsplit("/", 1)[1]
    expect(creator.get_by_test_id("post-product")).to_contain_text("$20.00")
    creator_id = creator.get_by_test_id("post-author").get_attribute("href").rsplit("/", 1)[1]  # type: ignore[union-attr]

    sign_up(buyer, live_server, "Sam Reader")
    buyer.goto(f"/creators/{creator_id}")
    buyer.get_by_test_id("follow-button").click()
    expect(buyer.get_by_test_id("follow-button")).to_have_text("Following")
    expect(buyer.get_by_test_id("follower-count")).to_have_text("1")
    buyer.goto("/")  # the fan zone: the followed creator's post is there
    item = buyer.locator(f'[data-testid="feed-post"][data-id="{post_id}"]')
    expect(item).to_have_attribute("data-reason", "following")
    item.get_by_role("link", name=f"My desk setup {tag}").click()
    buyer.wait_for_url(f"**/posts/{post_id}")
    card = buyer.get_by_test_id("post-product")
    expect(card.get_by_test_id("post-product-price")).to_have_text("$20.00")

    # The seller lowers the price; the open post's card follows within its polling interval.
    api = seller.context.browser.new_context(base_url=live_server)  # type: ignore[union-attr]
    try:  # a script of the seller's, with a bearer token and no cookies
        email = seller.request.get("/api/me").json()["email"]
        token = api.request.post("/api/auth/login", data={"email": email, "password": PASSWORD}).json()["token"]
        changed = api.request.patch(
            f"/api/shop/products/{product_id}",
            data={"price": {"amount_minor": 1800, "currency": "USD"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert changed.status == 200, changed.text()
    finally:
        api.close()
    expect(card.get_by_test_id("post-product-price")).to_have_text("$18.00", timeout=12_000)

    card.get_by_test_id("buy-now").click()
    form = buyer.get_by_test_id("quick-buy-form")
    form.get_by_label("Street address").fill("1 Main St")
    form.get_by_label("City").fill("Springfield")
    form.get_by_label("Postal code").fill("12345")
    form.get_by_role("button", name="Pay now").click()
    expect(buyer.get_by_test_id("quick-buy-placed")).to_contain_text("Order placed")
    assert buyer.url.endswith(f"/posts/{post_id}")  # never left the post
    expect(card).to_contain_text("Only 2 left", timeout=12_000)

    orders = buyer.request.get("/api/shop/orders").json()["items"]
    assert len(orders) == 1
    line = orders[0]["items"][0]
    assert line["product_id"] == product_id
    assert line["source"] == {"post_id": post_id}
    assert line["creator_id"] == creator_id
    assert line["unit_price"] == {"amount_minor": 1800, "currency": "USD"}

    buyer.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/posts/{post_id}", f"/creators/{creator_id}", "/leaderboard"):
        buyer.goto(path, wait_until="networkidle")
        width = buyer.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways on a phone: {width[0]}px > {width[1]}px"
    assert errors == []


def test_xss_corpus_in_a_post_and_its_comments_stays_inert_in_chromium(
    page: Page, buyer_page: Page, live_server: str
) -> None:
    token = api_account(page, ["influencer"])
    created = page.request.post(
        "/api/community/posts",
        data={"title": "<script>window.__xss=1</script>", "body": "\n\n".join(PAYLOADS), "status": "published"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status == 201, created.text()
    post_id = created.json()["id"]
    reader = api_account(buyer_page, ["buyer"])
    for payload in PAYLOADS[:5]:  # the comment burst allows five
        comment = page.request.post(
            f"/api/community/posts/{post_id}/comments",
            data={"text": payload},
            headers={"Authorization": f"Bearer {reader}"},
        )
        assert comment.status == 201, comment.text()

    dialogs: list[str] = []
    violations: list[str] = []

    def without_csp(route: Route) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "__xss" in message.text:
            violations.append(message.text)

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for viewer in (page, buyer_page):  # the author (editor preview too) and a reader
        viewer.route(re.compile(r".*/(posts|studio)/.*"), without_csp)
        viewer.on("dialog", on_dialog)
        viewer.on("console", on_console)
        viewer.goto(f"/posts/{post_id}", wait_until="networkidle")
        expect(viewer.get_by_test_id("post-body")).to_contain_text("entity link")
        viewer.wait_for_timeout(1_500)  # animations, toggles and image errors have fired by now
        assert viewer.evaluate("window.__xss") is None
    page.goto(f"/studio/posts/{post_id}/edit", wait_until="networkidle")
    expect(page.get_by_test_id("preview")).to_contain_text("entity link")
    page.wait_for_timeout(1_000)
    assert page.evaluate("window.__xss") is None
    assert dialogs == [] and violations == []
    expect(buyer_page.get_by_test_id("comment")).to_have_count(5)
    expect(buyer_page.get_by_test_id("comment").first).to_contain_text("<script>window.__xss=1</script>")
