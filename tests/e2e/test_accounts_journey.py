"""Accounts in a real browser: sign up with two roles, sign out and in again, a wrong password, a phone screen."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def test_signup_with_seller_role_then_sign_out_and_back_in(page: Page, live_server: str) -> None:
    email = f"jo-{uuid.uuid4().hex[:8]}@example.test"
    page.goto("/signup")
    page.get_by_label("Display name").fill("Jo Maker")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    expect(page.locator("input[name=roles][value=buyer]")).to_be_checked()
    page.locator("input[name=roles][value=seller]").check()
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Jo Maker")

    page.get_by_test_id("user-menu").locator("summary").click()  # the account menu holds Sign out
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)

    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Jo Maker")

    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jo Maker")
    expect(page.locator(".badge[data-role]")).to_have_count(2)
    expect(page.locator(".badge[data-role=buyer]")).to_have_text("buyer")
    expect(page.locator(".badge[data-role=seller]")).to_have_text("seller")


def test_wrong_password_shows_the_error_in_the_form_without_leaving_the_page(page: Page, live_server: str) -> None:
    page.goto("/signin")
    page.evaluate("window.e2eStillHere = true")  # lost if the browser loads a new document
    page.get_by_label("Email").fill("buyer@demo.livecommerce.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    alert = page.locator("#signin-form [role=alert]")
    expect(alert).to_have_text("The email or password is not right.")
    assert page.evaluate("window.e2eStillHere") is True
    assert page.url == f"{live_server}/signin"
    expect(page.get_by_label("Email")).to_have_value("buyer@demo.livecommerce.test")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def test_demo_seller_signs_in_and_sees_the_seller_badge(page: Page, live_server: str) -> None:
    page.goto("/account")
    page.wait_for_url(f"{live_server}/signin?next=/account")
    page.get_by_label("Email").fill("seller@demo.livecommerce.test")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server}/account")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Maple & Co. Outfitters")
    expect(page.locator(".badge[data-role=seller]")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/signup", "/signin"])
def test_page_fits_a_phone_without_console_errors(page: Page, path: str) -> None:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        errors.append(f"pageerror: {error.message}")

    page.on("console", on_console)  # CSP violations (inline styles or scripts) are reported here
    page.on("pageerror", on_page_error)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path, wait_until="networkidle")

    overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"{path} scrolls sideways on a phone: {overflow[0]}px > {overflow[1]}px"
    assert errors == []
