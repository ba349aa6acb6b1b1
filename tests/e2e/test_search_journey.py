"""Finding things in a browser, on a phone and a desktop: the header's search box, its grouped results (updated as one
types), and a post's hashtag leading to every post that carries it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser


def test_the_header_search_finds_products_posts_rooms_and_creators(audited: AuditedPage) -> None:
    page = audited.page
    page.goto("/")
    page.get_by_label("Find products, posts, rooms and creators").fill("canvas tote")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/search?q=canvas+tote")
    expect(page.get_by_test_id("found-products")).to_contain_text("Everyday canvas tote")
    audited.check()

    # Typing in the page's own box replaces the results without a reload.
    box = page.get_by_label("Products, posts, live rooms and creators")
    box.fill("Ava")
    expect(page.get_by_test_id("found-creators")).to_contain_text("Ava Lin")
    expect(page.get_by_test_id("found-products")).to_have_count(0)
    box.fill("skincare")
    expect(page.get_by_test_id("found-rooms")).to_contain_text("Sunday skincare live")
    audited.check()
    page.get_by_test_id("found-rooms").get_by_role("link", name="Sunday skincare live").click()
    page.wait_for_url("**/live/rooms/*")


def test_a_posts_hashtag_opens_every_post_with_that_tag(audited: AuditedPage) -> None:
    page = audited.page
    page.goto("/search?q=%23skincare")
    page.get_by_test_id("found-posts").get_by_role("link", name="My five-minute morning glow routine").click()
    page.wait_for_url("**/posts/*")
    page.get_by_role("link", name="#skincare").click()
    page.wait_for_url("**/tags/skincare")
    expect(page.get_by_test_id("tag-title")).to_have_text("#skincare")
    expect(page.get_by_test_id("tag-posts")).to_contain_text("My five-minute morning glow routine")
    audited.check()
