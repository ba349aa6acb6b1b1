"""Render the screenshots in docs/screenshots/ with Debian's Chromium.

Usage: .venv/bin/python docs/screenshots.py [--base-url URL]

Without --base-url it starts its own server on a free local port (a temporary SQLite data folder, migrated, with
the demo accounts) and stops it afterwards. With --base-url the server there must have the demo accounts loaded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli import DEMO_PASSWORD  # noqa: E402 - both need the repository root on sys.path
from tests.e2e.server import CHROMIUM_ARGS, LiveServer  # noqa: E402

OUT_DIR = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DEMO_SELLER = "seller@demo.livecommerce.test"
DEMO_CREATOR = "ava@demo.livecommerce.test"
DEMO_BUYER = "buyer@demo.livecommerce.test"
DEMO_MARKETER = "marketer@demo.livecommerce.test"
DEMO_ADMIN = "admin@demo.livecommerce.test"
_demo_room: dict[str, str] = {}  # the live-room shots share one scheduled room


def sign_in_as(email: str, landing: str) -> Callable[[Page], None]:
    """Sign in through the sign-in page as the demo account ``email`` and land on ``landing``."""

    def sign_in(page: Page) -> None:
        page.goto(f"/signin?next={landing}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: urlsplit(url).path == landing)  # not the /signin?next=... we are on
        page.get_by_test_id("signed-in-as").wait_for()

    return sign_in


sign_in_as_demo_seller = sign_in_as(DEMO_SELLER, "/account")
sign_in_as_demo_creator = sign_in_as(DEMO_CREATOR, "/live/studio")


def demo_room(page: Page) -> str:
    """A room the demo creator scheduled for tomorrow with three demo products, one pinned (made once)."""
    if "id" not in _demo_room:
        _demo_room["id"] = page.evaluate(
            """async () => {
              const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"];
              const headers = {"Content-Type": "application/json", "x-csrftoken": csrf};
              const products = (await (await fetch("/api/shop/products?limit=3")).json()).items.map(p => p.id);
              const room = await (await fetch("/api/live/rooms", {method: "POST", headers, body: JSON.stringify({
                title: "Autumn edit: linen, totes and a little glow",
                description: "Trying on the new linen shirts, packing the canvas tote, and live-only prices.",
                scheduled_for: new Date(Date.now() + 86400000).toISOString(),
                product_ids: products,
              })})).json();
              await fetch(`/api/live/rooms/${room.id}/pin`, {method: "POST", headers,
                body: JSON.stringify({product_id: products[0]})});
              return room.id;
            }"""
        )
    return _demo_room["id"]


def room_as_creator(page: Page) -> str:
    sign_in_as_demo_creator(page)
    return f"/live/rooms/{demo_room(page)}"


def studio_room_as_creator(page: Page) -> str:
    sign_in_as_demo_creator(page)
    return f"/live/studio/{demo_room(page)}"


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    viewport: dict[str, int]
    full_page: bool = False
    before: Callable[[Page], str | None] | None = None  # may answer the path to shoot instead of ``path``


SHOTS = [
    Shot("home-desktop", "/", DESKTOP, full_page=True),
    Shot("home-phone", "/", PHONE),
    Shot("signup", "/signup", DESKTOP),
    Shot("signin", "/signin", DESKTOP),
    Shot("account-seller", "/account", DESKTOP, before=sign_in_as_demo_seller),
    Shot("live-studio", "/live/studio", DESKTOP, full_page=True, before=sign_in_as_demo_creator),
    Shot("live-room", "/live", DESKTOP, full_page=True, before=room_as_creator),
    Shot("live-room-phone", "/live", PHONE, before=room_as_creator),
    Shot("live-studio-room", "/live", DESKTOP, full_page=True, before=studio_room_as_creator),
    Shot("live-rooms", "/live", DESKTOP),
    # Each audience's main page, as the README's first screen suggests trying them.
    Shot("buyer-shop", "/shop", DESKTOP, full_page=True, before=sign_in_as(DEMO_BUYER, "/shop")),
    Shot("buyer-shop-phone", "/shop", PHONE, before=sign_in_as(DEMO_BUYER, "/shop")),
    Shot("seller-dashboard", "/shop/seller", DESKTOP, full_page=True, before=sign_in_as(DEMO_SELLER, "/shop/seller")),
    Shot("creator-links", "/studio/links", DESKTOP, before=sign_in_as(DEMO_CREATOR, "/studio/links")),
    Shot("creator-storefront", "/studio/storefront", DESKTOP, before=sign_in_as(DEMO_CREATOR, "/studio/storefront")),
    Shot("marketer-reports", "/reports", DESKTOP, full_page=True, before=sign_in_as(DEMO_MARKETER, "/reports")),
    Shot("admin-console", "/admin", DESKTOP, before=sign_in_as(DEMO_ADMIN, "/admin")),
    Shot("admin-console-phone", "/admin", PHONE, before=sign_in_as(DEMO_ADMIN, "/admin")),
]


def take(browser: Browser, base_url: str, shot: Shot) -> Path:
    context = browser.new_context(base_url=base_url, viewport=shot.viewport)  # fresh cookies for every shot
    try:
        page = context.new_page()
        path = shot.before(page) if shot.before else None
        page.goto(path or shot.path, wait_until="networkidle")
        target = OUT_DIR / f"{shot.name}.png"
        page.screenshot(path=str(target), full_page=shot.full_page, animations="disabled", caret="hide")
        return target
    finally:
        context.close()


@contextmanager
def server(base_url: str | None) -> Iterator[str]:
    """The given server, or one of our own on a temporary SQLite database."""
    if base_url:
        yield base_url.rstrip("/")
        return
    data_dir = Path(tempfile.mkdtemp(prefix="livecommerce-screenshots-"))
    try:
        with LiveServer(data_dir) as live:
            print(f"started a demo server at {live.base_url}")
            yield live.base_url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running server with the demo accounts (default: start one)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    with server(args.base_url) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for shot in SHOTS:
                target = take(browser, base_url, shot)
                written.append(target)
                size = f"{shot.viewport['width']}x{shot.viewport['height']}"
                print(f"wrote {target.relative_to(ROOT)} ({size}, {target.stat().st_size // 1024} KiB)")
        finally:
            browser.close()
    total_kib = sum(p.stat().st_size for p in written) // 1024
    print(f"{len(written)} screenshots in {OUT_DIR.relative_to(ROOT)}/ ({total_kib} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
