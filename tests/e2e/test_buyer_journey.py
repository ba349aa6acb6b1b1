"""A buyer's order and its dispute in real browsers, on a phone and on a desktop: the buyer buys, the seller ships,
the buyer reads the order's dates and address and opens a dispute with a photo, the seller offers a partial refund
with a message, the buyer accepts it; each side reads the thread. Every page reached is audited.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.audit import AuditedPage, open_audited

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
TRACKING = "1Z999AA10123456784"


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so the thread shows a real picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xcc\x33\x33"))
        + chunk(b"IEND", b"")
    )


def sign_up(page: Page, name: str, *, seller: bool = False) -> None:
    page.goto("/signup")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    if seller:
        page.locator("input[name=roles][value=seller]").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(name)


def list_product(seller: AuditedPage, title: str) -> None:
    page = seller.page
    page.goto("/shop/seller")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Category").select_option("home")
    page.get_by_label("Price").fill("20.00")
    page.get_by_label("Stock").fill("3")
    page.get_by_label("Description").fill("Stoneware, 350 ml.")
    page.get_by_role("button", name="List product").click()
    expect(page.locator("#seller-products")).to_contain_text(title)
    page.reload()  # audited without the toast, whose fade-in axe would read as low contrast
    seller.check()


def buy(buyer: AuditedPage, title: str, tag: str) -> None:
    page = buyer.page
    page.goto(f"/shop?q={tag}")
    page.get_by_test_id("product-card").filter(has_text=title).click()
    expect(page.get_by_test_id("product-title")).to_have_text(title)
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    page.goto("/shop/checkout")
    page.get_by_label("Full name").fill("Sam Shopper")
    page.get_by_label("Street address").fill("1 Main St")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Card that works").check()
    page.get_by_role("button", name="Pay $20.00").click()
    page.wait_for_url(re.compile(r"/shop/orders\?placed="))
    expect(page.get_by_test_id("order-status")).to_have_text("Paid, waiting to ship")
    buyer.check()


def test_buyer_disputes_with_a_photo_and_accepts_the_sellers_partial_refund(
    audited: AuditedPage, browser: Browser, live_server: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Dispute mug {tag}"
    seller, seller_context = open_audited(browser, live_server, audited.viewport)
    try:
        buyer = audited
        sign_up(seller.page, "Jo Maker", seller=True)
        list_product(seller, title)
        sign_up(buyer.page, "Sam Shopper")
        buy(buyer, title, tag)

        # The seller ships from the dashboard.
        seller.page.goto("/shop/seller")
        sale = seller.page.get_by_test_id("sale").filter(has_text=title)
        sale.get_by_label("Carrier").fill("UPS")
        sale.get_by_label("Tracking number").fill(TRACKING)
        sale.get_by_role("button", name="Mark shipped").click()
        expect(seller.page.get_by_test_id("shipped")).to_contain_text(TRACKING)
        seller.page.reload()
        seller.check()

        # The buyer reads the order's dates and address on its own page.
        buyer.page.goto("/shop/orders")
        buyer.page.get_by_test_id("order").get_by_role("link", name=re.compile("^Order")).click()
        buyer.page.wait_for_url(re.compile(r"/shop/orders/[0-9a-f-]+$"))
        order = buyer.page.get_by_test_id("order")
        expect(order.get_by_test_id("ship-to")).to_contain_text("Sam Shopper, 1 Main St, Springfield 12345, US")
        expect(order.get_by_test_id("shipped-at")).to_contain_text(re.compile(r"\d{4}, \d\d:\d\d UTC"))
        expect(order.get_by_test_id("auto-confirm")).to_contain_text(re.compile(r"\d{4}, \d\d:\d\d UTC"))
        expect(order.get_by_test_id("protection-until")).to_contain_text("after delivery is confirmed")
        buyer.check()

        # ... and opens a dispute with a photo.
        order.get_by_text("Open a dispute").click()
        order.get_by_label("What went wrong?").select_option("damaged")
        order.get_by_label("Refund you ask for").fill("20")
        order.get_by_label("Details for the seller").fill("The handle came off in the box.")
        order.get_by_label("Photos (optional)").set_input_files(
            files=[{"name": "handle.png", "mimeType": "image/png", "buffer": tiny_png()}]
        )
        order.get_by_role("button", name="Send the dispute").click()
        expect(buyer.page.locator("#toasts")).to_contain_text("Dispute opened")
        buyer.page.get_by_test_id("dispute-link").click()
        buyer.page.wait_for_url(re.compile(r"/shop/disputes/[0-9a-f-]+$"))
        dispute_url = buyer.page.url
        expect(buyer.page.get_by_test_id("dispute-status")).to_have_text("Waiting for the seller")
        expect(buyer.page.get_by_test_id("evidence")).to_have_count(1)
        assert buyer.page.get_by_test_id("evidence").evaluate("img => img.naturalWidth") == 1
        buyer.check()

        # The seller finds the dispute from their sale and offers part of the money back with a message.
        seller.page.goto("/shop/seller")
        seller.page.get_by_test_id("recent-sale").first.get_by_role("link").click()
        seller.page.get_by_test_id("dispute-link").click()
        seller.page.wait_for_url(dispute_url)
        expect(seller.page.get_by_test_id("next-step")).to_contain_text("Your answer is due")
        expect(seller.page.get_by_test_id("message")).to_contain_text("The handle came off in the box.")
        expect(seller.page.get_by_test_id("evidence")).to_have_count(1)
        seller.check()
        seller.page.get_by_text("Offer a partial refund").click()
        seller.page.get_by_label("Amount to offer").fill("8")
        seller.page.get_by_label("Message to the buyer").fill("Sorry about that: $8.00 back for the handle.")
        seller.page.get_by_role("button", name="Send the answer").click()
        expect(seller.page.get_by_test_id("dispute-status")).to_have_text("Partial refund offered")
        expect(seller.page.get_by_test_id("next-step")).to_contain_text("Waiting for the buyer")
        seller.check()

        # The buyer sees the offer and the seller's message, and accepts.
        buyer.page.reload()
        expect(buyer.page.get_by_test_id("next-step")).to_contain_text("Jo Maker offers $8.00 back")
        expect(buyer.page.get_by_test_id("message").filter(has_text="$8.00 back for the handle")).to_have_count(1)
        buyer.check()
        buyer.page.get_by_role("button", name="Accept $8.00").click()
        expect(buyer.page.get_by_test_id("dispute-status")).to_have_text("Refunded")
        expect(buyer.page.get_by_test_id("next-step")).to_contain_text("Closed: $8.00 was refunded to the buyer.")
        buyer.check()

        # Both sides read the same closed thread.
        seller.page.reload()
        expect(seller.page.get_by_test_id("dispute-status")).to_have_text("Refunded")
        expect(seller.page.get_by_test_id("message")).to_have_count(2)
        seller.check()
        buyer.page.goto("/shop/orders")
        expect(buyer.page.get_by_test_id("order-status")).to_have_text("Partially refunded")
        buyer.check()
    finally:
        errors = list(seller.errors)
        seller_context.close()
    assert not errors, "\n".join(errors)
