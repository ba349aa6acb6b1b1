"""The seller's workspace in a real browser, on a phone and on a desktop: list a product with two pictures, change
its price and stock, find it in the shop with its picture, sell it, read the fee breakdown of the sale and the sales
report, then archive it. Every step goes through the pages; a buyer in a browser of their own makes the sale."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
TRACKING = "1Z999AA10123456784"


def png(colour: str) -> dict[str, object]:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), colour).save(out, "PNG")
    return {"name": f"{colour}.png", "mimeType": "image/png", "buffer": out.getvalue()}


def toast_shown(page: Page, text: str) -> None:
    """Wait for the toast to say ``text`` and finish fading in, so the audit measures its colours, not a fade."""
    expect(page.locator("#toasts")).to_contain_text(text)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.toast')].every(t => getComputedStyle(t).opacity === '1')"
    )


def sign_up(page: Page, live_server: str, name: str, *, seller: bool = False) -> None:
    page.goto("/signup")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    if seller:
        page.locator("input[name=roles][value=seller]").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/")


def buy_and_confirm_with_seller(buyer: Page, seller: Page, title: str, tag: str) -> None:
    """The buyer pays for one, the seller ships it, the buyer confirms delivery: escrow is released."""
    buyer.goto(f"/shop?q={tag}")
    buyer.get_by_test_id("product-card").filter(has_text=title).click()
    buyer.get_by_role("button", name="Add to cart").click()
    expect(buyer.get_by_test_id("cart-count")).to_have_text("1")
    buyer.goto("/shop/checkout")
    buyer.get_by_label("Full name").fill("Sam Shopper")
    buyer.get_by_label("Street address").fill("1 Main St")
    buyer.get_by_label("City").fill("Springfield")
    buyer.get_by_label("Postal code").fill("12345")
    buyer.get_by_label("Country").select_option("US")
    buyer.get_by_label("Card that works").check()
    buyer.get_by_role("button", name="Pay $24.50").click()
    buyer.wait_for_url(re.compile(r"/shop/orders\?placed="))

    seller.goto("/shop/seller")
    sale = seller.get_by_test_id("sale").filter(has_text=title)
    sale.get_by_label("Carrier").fill("UPS")
    sale.get_by_label("Tracking number").fill(TRACKING)
    sale.get_by_role("button", name="Mark shipped").click()
    expect(seller.get_by_test_id("shipped")).to_contain_text(TRACKING)

    buyer.reload()
    buyer.get_by_test_id("order").get_by_role("button", name="Confirm delivery").click()
    expect(buyer.get_by_test_id("order-status")).to_have_text("Completed")


def test_seller_lists_edits_sells_reads_their_money_and_archives(
    audited: AuditedPage, browser: Browser, live_server: str
) -> None:
    page = audited.page
    tag = uuid.uuid4().hex[:8]
    title = f"Stoneware mug {tag}"
    sign_up(page, live_server, "Jo Maker", seller=True)

    # List a product with two pictures, in one form.
    page.goto("/shop/seller")
    audited.check()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Category").select_option("home")
    page.get_by_label("Price").fill("20.00")
    page.get_by_label("Stock").fill("3")
    page.get_by_label("Creator commission (%)").fill("0")
    page.get_by_label("Description").fill("Hand-glazed, 350 ml.")
    page.get_by_label("Pictures").set_input_files([png("teal"), png("orange")])
    page.get_by_role("button", name="List product").click()
    toast_shown(page, "Product listed")
    listed = page.get_by_test_id("seller-product").filter(has_text=title)
    expect(listed.locator("img")).to_have_attribute("src", re.compile(r"-thumb\.webp$"))
    audited.check()

    # Change its price and stock on its own page; the pictures are there, the first one the cover.
    listed.get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(r"/shop/seller/products/"))
    expect(page.get_by_test_id("picture")).to_have_count(2)
    expect(page.get_by_test_id("picture").first).to_contain_text("Cover")
    audited.check()
    page.get_by_label("Price").fill("24.50")
    page.get_by_label("Stock").fill("5")
    page.get_by_role("button", name="Save changes").click()
    toast_shown(page, "Changes saved")
    audited.check()

    # Buyers find it in the shop with its picture and the new price.
    page.goto(f"/shop?q={tag}")
    card = page.get_by_test_id("product-card").filter(has_text=title)
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"-thumb\.webp$"))
    expect(card).to_contain_text("$24.50")
    audited.check()
    card.click()
    expect(page.get_by_test_id("product-price")).to_have_text("$24.50")
    expect(page.locator(".product-media img.product-image-lg")).to_have_attribute("src", re.compile(r"\.png$"))
    expect(page.locator(".product-gallery img")).to_have_count(1)
    audited.check()
    product_url = page.url

    buyer_context = browser.new_context(base_url=live_server)
    buyer_context.set_default_timeout(10_000)
    try:
        buyer = buyer_context.new_page()
        sign_up(buyer, live_server, "Sam Shopper")
        buy_and_confirm_with_seller(buyer, page, title, tag)
    finally:
        buyer_context.close()

    # The sale's fee breakdown: home carries a 6% platform commission, no creator sold it.
    page.goto("/shop/seller/earnings")
    breakdown = page.get_by_test_id("fee-breakdown").first
    expect(breakdown.get_by_test_id("fee-price")).to_have_text("$24.50")
    expect(breakdown.get_by_test_id("fee-platform")).to_have_text("$1.47")
    expect(breakdown.get_by_test_id("fee-creators")).to_have_text("$0.00")
    expect(breakdown.get_by_test_id("fee-net")).to_have_text("$23.03")
    audited.check()

    # The sales report: one unit of the product, and by source, a direct sale.
    page.goto("/shop/seller")
    page.get_by_role("link", name="Sales report").click()
    row = page.get_by_test_id("sales-row").filter(has_text=title)
    expect(row.get_by_test_id("sales-units")).to_have_text("1")
    expect(row.get_by_test_id("sales-revenue")).to_have_text("$24.50")
    audited.check()
    page.get_by_label("Group by").select_option("source")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("sales-row").filter(has_text="Direct (the shop)")).to_contain_text("$24.50")
    audited.check()

    # Archive it: the shop no longer shows it, and its seller can put it back.
    page.goto("/shop/seller")
    page.get_by_test_id("seller-product").filter(has_text=title).get_by_role("link", name=title).click()
    page.get_by_role("button", name="Archive product").click()
    expect(page.get_by_test_id("archived")).to_be_visible()
    expect(page.get_by_role("button", name="Put back on sale")).to_be_visible()
    audited.check()
    page.goto(f"/shop?q={tag}")
    expect(page.get_by_test_id("product-card")).to_have_count(0)
    audited.check()
    page.goto(product_url)
    expect(page.get_by_test_id("product-price")).to_have_text("$24.50")  # its seller still sees the page
    expect(page.get_by_text("Only you see this page")).to_be_visible()
