"""Demo content for ``livecommerce demo load``: accounts, a seller's catalog, and the creators' posts, rooms and
fans, so a fresh ``make run`` shows every part of LiveCommerce. Loading twice adds nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.follows import FollowService
from community.models import Post
from community.posts import PostService
from community.schemas import PostIn
from kernel.auth import CurrentUser
from kernel.auth.models import Role, User
from kernel.auth.passwords import Passwords
from kernel.auth.service import AccountService, normalise_email
from kernel.bus import Bus, channels_plugin
from kernel.clock import Clock, FixedClock
from kernel.settings import Settings
from live.models import Room
from live.rooms import RoomService
from live.schemas import RoomIn
from shop.attribution.coupons import CouponService, code_key
from shop.catalog.products import CatalogService
from shop.models import Coupon, Product
from shop.schemas import PriceIn, ProductIn

DEMO_PASSWORD = "livecommerce-demo"  # noqa: S105 - printed for the demo, not a secret


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    roles: tuple[Role, ...]


DEMO_ACCOUNTS = (
    DemoAccount("seller@demo.livecommerce.test", "Maple & Co. Outfitters", (Role.SELLER,)),
    DemoAccount("ava@demo.livecommerce.test", "Ava Lin", (Role.INFLUENCER,)),
    DemoAccount("marco@demo.livecommerce.test", "Marco Reyes", (Role.INFLUENCER,)),
    DemoAccount("buyer@demo.livecommerce.test", "Sam Buyer", (Role.BUYER,)),
    DemoAccount("marketer@demo.livecommerce.test", "Mia Marketer", (Role.MARKETER,)),
    DemoAccount("admin@demo.livecommerce.test", "Ops Admin", (Role.ADMIN,)),
)

DEMO_PRODUCTS = (
    # title, category, price in cents, stock, creator commission in basis points, description
    ("Washed linen shirt", "fashion", 4900, 40, 1200, "Relaxed fit, pre-washed for softness. Sand, sage or navy."),
    ("Everyday canvas tote", "fashion", 2400, 120, 1000, "Heavy 16 oz canvas with an inner zip pocket."),
    ("Vitamin C glow serum", "beauty", 3200, 80, 1500, "15% ascorbic acid with ferulic acid; 30 ml."),
    ("Overnight lip mask", "beauty", 1800, 150, 1500, "Shea and berry extracts; wake up to softer lips."),
    ("Wireless earbuds Pro", "electronics", 8900, 25, 600, "Active noise cancelling, 30 h with the case."),
    ("Ceramic pour-over set", "home", 3900, 30, 1000, "Hand-glazed dripper, carafe and two cups."),
    ("Trail running cap", "sports", 2200, 60, 800, "Quick-dry, reflective details, one size."),
    ("Wooden puzzle box", "toys", 2900, 15, 800, "A 12-step secret box made of walnut and maple."),
)

# Posts by title: (author's email, hashtags, Markdown with {0}, {1}, ... standing for DEMO_PRODUCTS ids).
DEMO_POSTS = (
    (
        "ava@demo.livecommerce.test",
        "My five-minute morning glow routine",
        ["skincare", "routine"],
        "Three steps, no fuss. First the serum, while the skin is still damp:\n\n[[product:{2}]]\n\n"
        "Then moisturiser, then sunscreen. At night the lip mask does the rest:\n\n[[product:{3}]]\n",
    ),
    (
        "ava@demo.livecommerce.test",
        "What I pack for a weekend away",
        ["travel", "capsule"],
        "One bag, **two outfits**, zero stress. The tote holds everything:\n\n[[product:{1}]]\n\n"
        "and the linen shirt works for the train and for dinner:\n\n[[product:{0}]]\n",
    ),
    (
        "marco@demo.livecommerce.test",
        "Slow coffee, fast mornings",
        ["coffee", "home"],
        "I switched to pour-over a year ago and never looked back.\n\n[[product:{5}]]\n\n"
        "Tip: rinse the paper filter with hot water first.\n",
    ),
)

# Upcoming shows: (host's email, title, description, hours from now, indexes of DEMO_PRODUCTS).
DEMO_ROOMS = (
    ("ava@demo.livecommerce.test", "Sunday skincare live", "Routines, Q&A and a live deal.", 24, (2, 3, 1)),
    ("marco@demo.livecommerce.test", "Gadgets under $100", "Earbuds, caps and a puzzle.", 48, (4, 6, 7)),
)


async def load_demo(session: AsyncSession, settings: Settings, clock: Clock, passwords: Passwords) -> list[str]:
    """Add whatever demo content is missing; returns the emails of the accounts made now."""
    accounts = AccountService(session, clock, settings.auth.session_ttl, passwords)
    created = []
    for account in DEMO_ACCOUNTS:
        if not await _user_id(session, account.email):
            await accounts.create_user(account.email, DEMO_PASSWORD, account.name, account.roles)
            created.append(account.email)
    products = await _load_products(session, settings)
    await _load_posts(session, clock, products)
    await _load_rooms(session, settings, clock, products)
    await _load_fans(session, clock)
    await _load_coupon(session, clock)
    return created


DEMO_COUPON = ("ava@demo.livecommerce.test", "AVA10", 1000)  # the creator, the code, 10 % off


async def _load_coupon(session: AsyncSession, clock: Clock) -> None:
    """Ava's coupon, so a buyer can try a discount at checkout (credited to Ava, like any coupon)."""
    email, code, discount_bps = DEMO_COUPON
    if not await session.scalar(select(Coupon.id).where(Coupon.code_key == code_key(code))):
        await CouponService(session, clock).create((await _as(session, email)).id, code, discount_bps)


async def _user_id(session: AsyncSession, email: str) -> UUID | None:
    return await session.scalar(select(User.id).where(User.email == normalise_email(email)))


async def _as(session: AsyncSession, email: str) -> CurrentUser:
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    assert user is not None, f"demo account {email} is missing"
    return CurrentUser.of(user)


async def _load_products(session: AsyncSession, settings: Settings) -> list[str]:
    """The demo seller's catalog, listed once; the products' ids in DEMO_PRODUCTS order."""
    seller_id = await _user_id(session, DEMO_ACCOUNTS[0].email)
    listed = {
        title: str(product_id)
        for title, product_id in await session.execute(
            select(Product.title, Product.id).where(Product.seller_id == seller_id)
        )
    }
    catalog = CatalogService(session, settings.shop.currency)
    for title, category, price, stock, affiliate_bps, description in DEMO_PRODUCTS:
        if title not in listed:
            product = await catalog.create(
                seller_id,
                ProductIn(
                    title=title,
                    category=category,
                    price=PriceIn(price, settings.shop.currency),
                    stock=stock,
                    description=description,
                    affiliate_rate_bps=affiliate_bps,
                ),
            )
            listed[title] = str(product.id)
    for title, category, *_ in DEMO_PRODUCTS:
        product_id = UUID(listed[title])
        if not await catalog.images(product_id):  # a product the seller gave pictures keeps them
            for variant in range(2):
                data = demo_picture(title, category, variant)
                await catalog.add_image(seller_id, product_id, settings.media_dir, data)
    return [listed[title] for title, *_ in DEMO_PRODUCTS]


# Two colours per category: the picture's gradient runs from the first to the second.
_PALETTES = {
    "fashion": ((226, 207, 180), (142, 106, 74)),
    "beauty": ((252, 214, 221), (197, 94, 128)),
    "electronics": ((196, 214, 236), (39, 64, 112)),
    "home": ((218, 232, 214), (84, 122, 86)),
    "sports": ((255, 222, 173), (214, 96, 42)),
    "toys": ((235, 222, 250), (112, 76, 168)),
}


def demo_picture(title: str, category: str, variant: int, size: int = 720) -> bytes:
    """A product picture drawn at load time (no files in the repository, no network): a gradient in the category's
    colours, a simple motif, and the product's initials; ``variant`` 1 is a second view, its gradient upside down."""
    light, dark = _PALETTES.get(category, ((230, 230, 230), (90, 90, 90)))
    top, bottom = (dark, light) if variant else (light, dark)
    picture = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(picture)
    for y in range(size):
        t = y / (size - 1)
        draw.line([(0, y), (size, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    seed = sum(map(ord, title))
    for n in range(6):  # soft circles placed by the title, so each product looks different
        r = size // 10 + (seed * (n + 3)) % (size // 5)
        x, y = (seed * (n + 7) * 37) % size, (seed * (n + 11) * 53) % size
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=max(2, size // 120))
    initials = "".join(word[0] for word in title.split()[:2]).upper()
    font = ImageFont.load_default(size=size // 4)
    draw.rounded_rectangle(
        [size * 0.22, size * 0.3, size * 0.78, size * 0.7],
        radius=size // 16,
        fill=(255, 255, 255),
        outline=dark,
        width=6,
    )
    draw.text((size / 2, size / 2), initials, fill=dark, font=font, anchor="mm")
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()


async def _load_posts(session: AsyncSession, clock: Clock, products: list[str]) -> None:
    """The creators' posts, published an hour apart in the last few hours (so they are already trending)."""
    for hours_ago, (email, title, hashtags, body) in zip(range(len(DEMO_POSTS), 0, -1), DEMO_POSTS, strict=True):
        author = await _as(session, email)
        if not await session.scalar(select(Post.id).where(Post.author_id == author.id, Post.title == title)):
            published = FixedClock(clock.now() - timedelta(hours=hours_ago))
            await PostService(session, published).create(
                author, PostIn(title, body.format(*products), hashtags, "published")
            )


async def _load_rooms(session: AsyncSession, settings: Settings, clock: Clock, products: list[str]) -> None:
    rooms = RoomService(session, clock, Bus(channels_plugin(None)), settings.live)  # scheduling publishes nothing
    for email, title, description, hours, picks in DEMO_ROOMS:
        host = await _as(session, email)
        if not await session.scalar(select(Room.id).where(Room.host_id == host.id, Room.title == title)):
            starts = clock.now() + timedelta(hours=hours)
            await rooms.schedule(host, RoomIn(title, [products[i] for i in picks], description, starts))


async def _load_fans(session: AsyncSession, clock: Clock) -> None:
    """The demo buyer follows both creators (follows are idempotent)."""
    buyer = await _as(session, "buyer@demo.livecommerce.test")
    follows = FollowService(session, clock)
    for email in ("ava@demo.livecommerce.test", "marco@demo.livecommerce.test"):
        await follows.follow(buyer, (await _as(session, email)).id)
