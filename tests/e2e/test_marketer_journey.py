"""The marketer's day in a real browser, on a phone and a desktop: a reader follows Ava's post to a product, then
the demo marketer signs in, narrows the attribution report to Ava by typing her name, reads what each column means
and downloads the same rows as CSV. Everything goes through the pages; the test calls no API itself."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from demo import DEMO_PASSWORD
from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser

MARKETER = "marketer@demo.livecommerce.test"
POST = "My five-minute morning glow routine"  # a demo post by Ava Lin that embeds two products


def read_avas_post(audited: AuditedPage) -> None:
    """An anonymous reader opens Ava's post and a product in it: a view and a click credited to her."""
    page = audited.page
    page.goto("/")
    page.get_by_role("link", name=POST).first.click()
    page.wait_for_url(re.compile(r"/posts/"))
    audited.check()
    page.get_by_test_id("post-product").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/shop/products/"))
    audited.check()


def sign_in_as_marketer(audited: AuditedPage, base_url: str) -> None:
    page = audited.page
    page.goto("/signin?next=/reports")
    page.get_by_label("Email").fill(MARKETER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/reports")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Mia Marketer")
    audited.check()


def test_marketer_filters_by_a_creators_name_reads_the_legend_and_exports_csv(
    audited: AuditedPage, live_server: str
) -> None:
    read_avas_post(audited)
    audited.page.context.clear_cookies()
    sign_in_as_marketer(audited, live_server)
    page = audited.page

    # A name that matches nobody is refused beside the search box; the report is not silently unfiltered.
    page.get_by_label("Find a creator").fill("Nobody-at-all")
    page.get_by_label("Find a creator").press("Enter")
    expect(page.locator("#e-creator_q")).to_have_text("No creator name contains “Nobody-at-all”.")
    audited.check()

    # Search as you type: the list offers Ava, choosing her narrows the report and the address says so.
    page.get_by_label("Find a creator").fill("ava")
    creator = page.get_by_label("Creator", exact=True)
    expect(creator.locator("option", has_text="Ava Lin")).to_have_count(1)
    creator.select_option(label="Ava Lin")
    page.wait_for_url(re.compile(r"/reports\?.*creator_id="))
    expect(page.locator("#e-creator_q")).to_have_count(0)
    rows = page.get_by_test_id("report-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ava Lin")
    audited.check()

    # The table keeps to its card: on a phone each row is a card, on a desktop the table scrolls inside it.
    card = page.locator("#report-results > .table-card")
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1", card.element_handle())

    legend = page.get_by_test_id("report-legend")
    expect(legend).to_contain_text("Conversion")
    expect(legend).to_contain_text("never above 100 %")
    conversion = rows.first.locator("td[data-label=Conversion]").inner_text()
    assert 0 <= float(conversion.rstrip("%")) <= 100

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    table = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row["label"] for row in table] == ["Ava Lin"]
    assert int(table[0]["clicks"]) >= 1 and 0 <= float(table[0]["conversion_rate"]) <= 1
