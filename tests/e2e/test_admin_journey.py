"""The admin console in real browsers: the demo admin suspends a member (whose open browser is signed out at once),
reinstates them, edits a category's commission, runs payouts and sees the run, reads the trial balance and the jobs.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from demo import DEMO_PASSWORD
from tests.e2e.audit import AuditedPage, open_audited

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
REFUSED_SIGN_IN = "Failed to load resource: the server responded with a status of 403 (Forbidden)"


def sign_in(page: Page, live_server: str, email: str, password: str, then: str = "/") -> None:
    page.goto(f"/signin?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}{then}")


def test_admin_runs_the_platform_from_the_console(audited: AuditedPage, browser: Browser, live_server: str) -> None:
    admin = audited.page
    member, member_context = open_audited(browser, live_server, audited.viewport)
    email = f"rowan-{uuid.uuid4().hex[:8]}@example.test"
    try:
        # A member signs up and keeps their browser open.
        member.page.goto("/signup")
        member.page.get_by_label("Display name").fill("Rowan Member")
        member.page.get_by_label("Email").fill(email)
        member.page.get_by_label("Password").fill(PASSWORD)
        member.page.get_by_role("button", name="Create account").click()
        member.page.wait_for_url(f"{live_server}/")
        expect(member.page.get_by_test_id("signed-in-as")).to_have_text("Rowan Member")

        # The admin finds them from the console's landing page.
        sign_in(admin, live_server, "admin@demo.livecommerce.test", DEMO_PASSWORD, "/admin")
        audited.check()
        admin.get_by_role("link", name="Users").first.click()
        admin.wait_for_url("**/admin/users")
        admin.get_by_label("Email or name").fill(email)
        admin.get_by_role("button", name="Search").click()
        admin.get_by_role("link", name="Rowan Member").click()
        admin.wait_for_url(re.compile(r".*/admin/users/[0-9a-f-]+$"))
        audited.check()

        # (A refused form answers 4xx, which Chromium logs as a console error: those are tested over HTTP, in
        # tests/kernel/test_admin_users.py and tests/shop/web/test_admin_console.py.)
        admin.get_by_test_id("suspend-form").get_by_label("Reason").fill("Spam in room chats")
        admin.get_by_test_id("suspend-form").get_by_role("button", name="Suspend").click()
        expect(admin.get_by_test_id("account-status")).to_have_text("Suspended")
        expect(admin.get_by_test_id("account-history")).to_contain_text("Spam in room chats")
        audited.check()

        # The member's open browser is signed out on its next request, and sign-in tells them why.
        member.page.reload()
        expect(member.page.get_by_test_id("signed-in-as")).to_have_count(0)
        member.page.goto("/signin")
        member.page.get_by_label("Email").fill(email)
        member.page.get_by_label("Password").fill(PASSWORD)
        member.page.get_by_role("button", name="Sign in").click()
        expect(member.page.locator("#signin-form [role=alert]")).to_contain_text("suspended: Spam in room chats")
        member.check()

        # Reinstated, the member signs in again.
        reinstate = admin.get_by_test_id("reinstate-form")
        reinstate.get_by_label("Reason").fill("Appeal accepted")
        reinstate.get_by_role("button", name="Reinstate").click()
        expect(admin.get_by_test_id("account-status")).to_have_text("Active")
        audited.check()
        sign_in(member.page, live_server, email, PASSWORD)
        expect(member.page.get_by_test_id("signed-in-as")).to_have_text("Rowan Member")

        # A category's commission, edited and then put back for the other journeys.
        admin.get_by_role("link", name="Categories").click()
        admin.wait_for_url("**/admin/categories")
        original = admin.locator("form[data-slug=toys]").get_by_label("Commission %").input_value()
        admin.locator("form[data-slug=toys]").get_by_label("Commission %").fill("9.5")
        admin.locator("form[data-slug=toys]").get_by_role("button", name="Save").click()
        expect(admin.get_by_role("status")).to_contain_text("Saved toys")
        expect(admin.locator("form[data-slug=toys]").get_by_label("Commission %")).to_have_value("9.5")
        audited.check()
        admin.locator("form[data-slug=toys]").get_by_label("Commission %").fill(original)
        admin.locator("form[data-slug=toys]").get_by_role("button", name="Save").click()
        expect(admin.locator("form[data-slug=toys]").get_by_label("Commission %")).to_have_value(original)

        # Payouts: run now, and the run heads the history, run by the demo admin.
        admin.get_by_role("link", name="Payouts").click()
        admin.wait_for_url("**/admin/payouts")
        runs_before = admin.locator("[data-run]").count()
        admin.get_by_role("button", name="Run payouts now").click()
        expect(admin.get_by_test_id("payout-done")).to_be_visible()
        expect(admin.locator("[data-run]")).to_have_count(runs_before + 1)
        expect(admin.locator("[data-run]").first).to_contain_text("Ops Admin")
        audited.check()

        # The books balance, and every background job has a last run.
        admin.get_by_role("link", name="Ledger").click()
        admin.wait_for_url("**/admin/ledger")
        expect(admin.get_by_test_id("trial-balance")).to_contain_text("Balanced")
        expect(admin.get_by_test_id("trial-balance")).not_to_contain_text("Out of balance")
        audited.check()
        admin.get_by_role("link", name="Jobs").click()
        admin.wait_for_url("**/admin/jobs")
        expect(admin.locator("[data-job=cancel_unshipped]")).to_contain_text("done")
        audited.check()
        admin.get_by_role("link", name="Disputes").click()
        admin.wait_for_url("**/admin/disputes")
        audited.check()
    finally:
        # The refused sign-in answers 403 (what the API answers too), which Chromium logs as a console error.
        errors = [e for e in member.errors if not e.endswith(f"/signin: {REFUSED_SIGN_IN}")]
        member_context.close()
    assert not errors, "\n".join(errors)
