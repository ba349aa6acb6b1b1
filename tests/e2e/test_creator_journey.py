"""A creator's workspace in a real browser, on a phone and on a desktop: the storefront (bio, links, picture,
showcase) as the public profile shows it, referral links with a working copy button, coupons made, refused beside
their fields, paused and resumed, a post whose product is picked by name, and, after a buyer uses the coupon, the
commission in Earnings (from the menu) and the receipt of why the order is the creator's.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser

PRODUCT = "Everyday canvas tote"  # a demo product
PASSWORD = "correct-horse-battery"


def sign_up(page: Page, live_server: str, name: str, role: str) -> None:
    page.goto("/signup")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator(f"input[name=roles][value={role}]").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/")


def from_menu(page: Page, name: str) -> None:
    """Follow a link of the page header, opening the account menu first where the header keeps one."""
    menu = page.locator("header details")
    if menu.count() and not menu.first.evaluate("menu => menu.open"):
        menu.first.locator("summary").click()
    page.locator("header").get_by_role("link", name=name, exact=True).first.click()


@contextmanager
def refusal_expected(audited: AuditedPage) -> Iterator[None]:
    """Chromium logs a page or form answered with a 4xx as a console error; inside this block the refusal is the
    behaviour under test, so the console is not listened to until the refused form is back on screen."""
    audited.page.remove_listener("console", audited._on_console)
    try:
        yield
    finally:
        audited.page.on("console", audited._on_console)


def toasts_settled(page: Page) -> None:
    """Wait until every toast is fully shown or gone: axe-core measures a fading one's colours half-blended."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('#toasts .toast')].every(t => {"
        " const s = getComputedStyle(t); return s.visibility === 'hidden' || s.opacity === '1'; })"
    )


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def edit_storefront(audited: AuditedPage) -> None:
    page = audited.page
    from_menu(page, "Write")
    page.get_by_role("link", name="Storefront").click()
    page.wait_for_url("**/studio/storefront")
    audited.check()

    page.get_by_label("Bio").fill("Slow fashion and good coffee.")
    page.get_by_label("Link 1 label").fill("My blog")
    page.get_by_label("Link 1 address").fill("http://rae.example/blog")
    address = page.get_by_label("Link 1 address")
    with refusal_expected(audited):
        page.get_by_role("button", name="Save bio and links").click()
        expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.has-error").filter(has=address)).to_contain_text("Use a full https:// address.")
    audited.check()
    address.fill("https://rae.example/blog")
    page.get_by_role("button", name="Save bio and links").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    page.get_by_label(re.compile(r"^Picture")).set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": one_pixel_png()}
    )
    page.get_by_role("button", name="Upload picture").click()
    expect(page.get_by_test_id("avatar")).to_be_visible()

    page.get_by_label("Find a product to feature").fill("canvas tote")
    page.get_by_role("button", name=f"Feature {PRODUCT}").click()
    expect(page.get_by_test_id("showcased")).to_contain_text(PRODUCT)
    audited.check()

    page.get_by_role("link", name="View your profile").click()
    expect(page.get_by_test_id("creator-avatar")).to_be_visible()
    blog = page.get_by_test_id("creator-links").get_by_role("link", name="My blog")
    expect(blog).to_have_attribute("href", "https://rae.example/blog")
    expect(blog).to_have_attribute("rel", "nofollow noopener")
    expect(page.get_by_test_id("product-card").filter(has_text=PRODUCT)).to_be_visible()
    audited.check()


def make_links(audited: AuditedPage, live_server: str) -> str:
    """A storefront link and a product link; returns the product link's address, as copied."""
    page = audited.page
    from_menu(page, "Write")
    page.get_by_role("link", name="Links", exact=True).click()
    page.wait_for_url("**/studio/links")
    audited.check()
    page.get_by_role("button", name="Make a storefront link").click()
    expect(page.get_by_test_id("referral-link")).to_have_count(1)
    page.get_by_label("Find a product").fill("canvas tote")
    page.get_by_role("button", name=f"Make a link to {PRODUCT}").click()
    row = page.get_by_test_id("referral-link").filter(has_text=PRODUCT)
    expect(row.get_by_test_id("link-clicks")).to_have_text("0")
    url = row.get_by_test_id("link-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/r/[a-z0-9]{{10}}", url), url
    row.get_by_role("button", name=re.compile("^Copy link")).click()
    expect(row.get_by_role("button", name=re.compile("^Copied link"))).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    audited.check()
    return url


def make_coupon(audited: AuditedPage, code: str) -> None:
    page = audited.page
    page.get_by_role("link", name="Coupons", exact=True).click()
    page.wait_for_url("**/studio/coupons")
    page.get_by_label("Code").fill("X")
    page.get_by_label("Discount (%)").fill("10")
    with refusal_expected(audited):
        page.get_by_role("button", name="Create coupon").click()
        expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-code")).to_contain_text("3-40 letters")
    audited.check()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Create coupon").click()
    coupon = page.get_by_test_id("coupon").filter(has_text=code)
    expect(coupon.get_by_test_id("coupon-status")).to_have_text("Active")
    coupon.get_by_role("button", name=f"Pause {code}").click()
    expect(coupon.get_by_test_id("coupon-status")).to_have_text("Paused")
    expect(page.locator("#toasts")).to_contain_text("Coupon paused")
    coupon.get_by_role("button", name=f"Resume {code}").click()
    expect(coupon.get_by_test_id("coupon-status")).to_have_text("Active")
    expect(page.locator("#toasts")).to_contain_text("Coupon resumed")
    toasts_settled(page)
    audited.check()


def write_post_with_picked_product(audited: AuditedPage, tag: str) -> None:
    page = audited.page
    from_menu(page, "Write")
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(f"Carry it all {tag}")
    page.get_by_label("Post (Markdown)").fill("The bag I take everywhere:")
    page.get_by_label("Find a product to embed").fill("canvas tote")
    page.get_by_role("button", name=f"Insert {PRODUCT}").click()
    expect(page.get_by_label("Post (Markdown)")).to_have_value(
        re.compile(r"everywhere:\n\n\[\[product:[0-9a-f-]{36}\]\]\n")
    )
    expect(page.get_by_test_id("preview").get_by_test_id("post-product")).to_contain_text(PRODUCT)
    audited.check()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/posts/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("post-product")).to_contain_text(PRODUCT)


def buy_through_the_link(buyer: Page, live_server: str, url: str, code: str) -> None:
    sign_up(buyer, live_server, "Sam Shopper", "buyer")
    buyer.goto(url)
    expect(buyer.get_by_test_id("product-title")).to_have_text(PRODUCT)
    buyer.get_by_role("button", name="Add to cart").click()
    expect(buyer.locator("#toasts")).to_contain_text("Added to your cart")
    buyer.goto("/shop/checkout")
    buyer.get_by_label("Full name").fill("Sam Shopper")
    buyer.get_by_label("Street address").fill("1 Main St")
    buyer.get_by_label("City").fill("Springfield")
    buyer.get_by_label("Postal code").fill("12345")
    buyer.get_by_label("Country").select_option("US")
    buyer.get_by_label("Card that works").check()
    buyer.get_by_label("Coupon code (optional)").fill(code)
    buyer.get_by_role("button", name="Apply coupon").click()  # the total shown is the total charged
    expect(buyer.get_by_test_id("checkout-discount")).to_be_visible()
    buyer.get_by_role("button", name=re.compile(r"^Pay ")).click()
    buyer.wait_for_url(re.compile(r"/shop/orders\?placed="))


def test_a_creator_does_every_job_of_the_workspace_in_the_pages(
    audited: AuditedPage, browser: Browser, live_server: str
) -> None:
    page = audited.page
    tag = uuid.uuid4().hex[:6]
    code = f"RAE{tag}".upper()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_up(page, live_server, "Rae Studio", "influencer")

    edit_storefront(audited)
    url = make_links(audited, live_server)
    make_coupon(audited, code)
    write_post_with_picked_product(audited, tag)

    buyer_context = browser.new_context(base_url=live_server)
    try:
        buy_through_the_link(buyer_context.new_page(), live_server, url, code)
    finally:
        buyer_context.close()

    from_menu(page, "Earnings")
    page.wait_for_url("**/shop/seller/earnings")
    line = page.get_by_test_id("commission").filter(has_text=PRODUCT)
    expect(line).to_have_attribute("data-state", "pending")
    audited.check()
    line.get_by_test_id("receipt-link").click()
    page.wait_for_url(re.compile(r"/reports/orders/[0-9a-f-]{36}$"))
    receipt = page.get_by_test_id("receipt-line")
    expect(receipt.get_by_test_id("receipt-rule")).to_have_text("your coupon was used at checkout")
    expect(receipt.locator('[data-testid="candidate"][data-won="true"]')).to_contain_text("Coupon at checkout")
    audited.check()

    page.goto("/studio/links")
    row = page.get_by_test_id("referral-link").filter(has_text=PRODUCT)
    expect(row.get_by_test_id("link-clicks")).to_have_text("1")
    page.goto("/studio/coupons")
    expect(page.get_by_test_id("coupon").filter(has_text=code).get_by_test_id("coupon-uses")).to_have_text("1")
