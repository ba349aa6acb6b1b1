"""The shop in real browsers: a seller lists, a buyer buys, the seller ships, the buyer confirms, the money matures.

The live server runs with a 4-second dispute window (tests/e2e/server.py), so the seller's sale turns from pending
to available while the test watches.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
TRACKING = "1Z999AA10123456784"
MATURE_WITHIN_S = 30.0  # the window is 4 s; this bounds a slow machine


@pytest.fixture
def second_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """Another person's browser: a context of its own, so no cookies are shared with ``page``."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_up(page: Page, live_server: str, name: str, *, seller: bool = False) -> None:
    page.goto("/signup")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    if seller:
        page.locator("input[name=roles][value=seller]").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text(name)


def list_product(page: Page, title: str) -> None:
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_role("link", name="Sell", exact=True).click()
    page.wait_for_url("**/shop/seller")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Category").select_option("home")
    page.get_by_label("Price").fill("20.00")
    page.get_by_label("Stock").fill("3")
    page.get_by_label("Creator commission (%)").fill("10")
    page.get_by_label("Description").fill("Stoneware, 350 ml.\nDishwasher safe.")
    page.get_by_role("button", name="List product").click()
    expect(page.locator("#seller-products")).to_contain_text(title)
    expect(page.locator("#toasts")).to_contain_text("Product listed")


def buy(page: Page, title: str, tag: str) -> None:
    page.get_by_role("link", name="Shop", exact=True).click()
    search = page.get_by_label("Search")
    search.fill(tag)
    search.press("Enter")
    card = page.get_by_test_id("product-card").filter(has_text=title)
    expect(page.get_by_test_id("product-card")).to_have_count(1)
    card.click()
    expect(page.get_by_test_id("product-title")).to_have_text(title)
    expect(page.get_by_test_id("product-price")).to_have_text("$20.00")

    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    expect(page.locator("#toasts")).to_contain_text("Added to your cart")

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.get_by_test_id("cart-total")).to_have_text("$20.00")
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Full name").fill("Sam Shopper")
    page.get_by_label("Street address").fill("1 Main St")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Card that works").check()
    page.get_by_role("button", name="Pay $20.00").click()

    page.wait_for_url(re.compile(r"/shop/orders\?placed="))
    expect(page.get_by_test_id("order-placed")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid, waiting to ship")
    expect(page.get_by_test_id("cart-count")).to_have_text("")


def test_seller_lists_buyer_buys_seller_ships_buyer_confirms_and_the_sale_matures(
    page: Page, second_page: Page, live_server: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Journey mug {tag}"
    seller, buyer = page, second_page

    sign_up(seller, live_server, "Jo Maker", seller=True)
    list_product(seller, title)

    sign_up(buyer, live_server, "Sam Shopper")
    buy(buyer, title, tag)

    seller.reload()
    sale = seller.get_by_test_id("sale").filter(has_text=title)
    expect(sale.get_by_test_id("ship-by")).to_contain_text(re.compile(r"Ship by in \d+ days"))
    expect(seller.get_by_test_id("balance-escrow")).to_have_text("$20.00")
    sale.get_by_label("Carrier").fill("UPS")
    sale.get_by_label("Tracking number").fill(TRACKING)
    sale.get_by_role("button", name="Mark shipped").click()
    expect(seller.get_by_test_id("shipped")).to_contain_text(TRACKING)

    buyer.reload()
    order = buyer.get_by_test_id("order")
    expect(order.get_by_test_id("tracking")).to_have_text(TRACKING)
    expect(order).to_contain_text("Shipped with UPS")
    order.get_by_role("button", name="Confirm delivery").click()
    expect(buyer.get_by_test_id("order-status")).to_have_text("Completed")
    expect(buyer.locator("#toasts")).to_contain_text("Delivery confirmed")

    # Home carries a 6% platform commission: $1.20 of $20.00, so the seller earns $18.80, pending for the window.
    seller.reload()
    expect(seller.get_by_test_id("balance-pending")).to_have_text("$18.80")
    expect(seller.get_by_test_id("balance-available")).to_have_text("$0.00")
    deadline = time.monotonic() + MATURE_WITHIN_S
    while seller.get_by_test_id("balance-available").inner_text() != "$18.80":
        assert time.monotonic() < deadline, "the sale never became available after the dispute window"
        seller.wait_for_timeout(500)
        seller.reload()
    expect(seller.get_by_test_id("balance-pending")).to_have_text("$0.00")

    seller.get_by_role("link", name="Earnings").click()
    release = seller.get_by_test_id("earning").filter(has_text="Sale released from escrow")
    expect(release).to_contain_text("$18.80")
    expect(release).to_contain_text("Available since")


def test_shop_pages_fit_a_phone_without_console_errors(page: Page, second_page: Page, live_server: str) -> None:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        errors.append(f"pageerror: {error.message}")

    tag = uuid.uuid4().hex[:8]
    sign_up(second_page, live_server, "Jo Maker", seller=True)
    list_product(second_page, f"A rather long product title that needs to wrap on a phone {tag}")

    page.on("console", on_console)  # CSP violations (inline styles or scripts) are reported here
    page.on("pageerror", on_page_error)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, live_server, "Pat Phone", seller=True)
    page.goto(f"/shop?q={tag}")
    page.get_by_test_id("product-card").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    for path in (
        "/shop",
        page.url,
        "/shop/cart",
        "/shop/checkout",
        "/shop/orders",
        "/shop/seller",
        "/shop/seller/earnings",
    ):
        page.goto(path, wait_until="networkidle")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways on a phone: {width[0]}px > {width[1]}px"
    assert errors == []
