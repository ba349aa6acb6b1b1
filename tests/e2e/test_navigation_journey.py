"""The header for every role, on a phone and on a desktop: one bar that fits, and an account menu from which each of
the role's pages (as app.NAVIGATION lists them) is one click away."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from app import NAVIGATION
from demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from kernel.auth.models import Role
from kernel.web import nav_for
from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser

# A page each role must find in its menu, so a menu that lost its role's entries fails here.
ROLE_PAGES = {
    Role.BUYER: "Orders",
    Role.SELLER: "Sell",
    Role.INFLUENCER: "Studio",
    Role.MARKETER: "Reports",
    Role.ADMIN: "Disputes",
}


def _account(role: Role) -> DemoAccount:
    return next(a for a in DEMO_ACCOUNTS if a.roles == (role,))


def sign_in(page: Page, account: DemoAccount) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(account.name)


def open_menu(page: Page) -> None:
    menu = page.get_by_test_id("user-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()


def _inside_viewport(page: Page, selector: str) -> None:
    width = page.evaluate("() => document.documentElement.clientWidth")
    for box in page.locator(selector).evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert box["left"] >= 0 and box["right"] <= width, f"{selector} leaves the {width}px viewport: {box}"


@pytest.mark.parametrize("role", list(ROLE_PAGES), ids=[r.value for r in ROLE_PAGES])
def test_each_roles_header_fits_and_every_menu_entry_opens_its_page(audited: AuditedPage, role: Role) -> None:
    page = audited.page
    account = _account(role)
    sign_in(page, account)
    header = page.locator(".site-header")
    # One bar on a desktop (no second line of links); everything inside the screen on a phone.
    if audited.viewport == "desktop":
        assert header.bounding_box()["height"] < 80, "the desktop header wraps"
    for item in nav_for(SimpleNamespace(roles=frozenset(account.roles)), NAVIGATION).bar:
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name=item.label, exact=True)
        ).to_be_visible()
    _inside_viewport(page, ".site-header a, .site-header summary, .site-header button, .site-header input")
    audited.check()

    entries = [
        i for _, items in nav_for(SimpleNamespace(roles=frozenset(account.roles)), NAVIGATION).menu for i in items
    ]
    assert ROLE_PAGES[role] in [i.label for i in entries]
    open_menu(page)
    _inside_viewport(page, ".user-menu-panel a, .user-menu-panel button")
    audited.check()
    page.keyboard.press("Escape")  # closes the menu, as a click outside it does
    expect(page.get_by_role("navigation", name="Your pages")).to_be_hidden()
    open_menu(page)
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(page.get_by_role("navigation", name="Your pages")).to_be_hidden()
    for item in entries:
        open_menu(page)
        page.get_by_role("navigation", name="Your pages").get_by_role("link", name=item.label, exact=True).click()
        page.wait_for_url(re.compile(re.escape(item.href) + r"$"))
        expect(page.get_by_test_id("signed-in-as")).to_have_text(account.name)

    open_menu(page)
    page.get_by_role("navigation", name="Your pages").get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    audited.check()
