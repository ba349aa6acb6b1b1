"""The community pages as a browser (a session cookie) and htmx use them: the post page with live cards, the click
that records a touch, quick buy crediting the post's author, likes, comments, follows, the editor and leaderboard."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from shop.models import Touch
from tests.community.helpers import creator, publish
from tests.factories import bearer
from tests.pages import HTML, HTMX, browse_as, csrf_token, submit
from tests.shop.helpers import seller_with_product, usd

ADDRESS = {"name": "Sam Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


async def post_with_product(client: AsyncClient, price: int = 2500) -> tuple[str, str, dict[str, Any], str]:
    """A seller's token and product, a creator's published post embedding it, and the creator's token."""
    seller, product_id = await seller_with_product(client, price=price)
    _, token = await creator(client)
    post = await publish(client, token, f"Love this:\n\n[[product:{product_id}]]\n")
    return seller, product_id, post, token


async def test_post_page_shows_a_live_card_that_follows_price_changes(client: AsyncClient) -> None:
    seller, product_id, post, _ = await post_with_product(client, price=2500)
    page = await client.get(f"/posts/{post['id']}", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="post-product"' in page.text and "$25.00" in page.text
    assert f'hx-get="/posts/{post["id"]}/cards" hx-trigger="every 5s"' in page.text
    await client.patch(f"/api/shop/products/{product_id}", json={"price": usd(1800)}, headers=bearer(seller))
    cards = await client.get(f"/posts/{post['id']}/cards", headers=HTMX)
    assert cards.status_code == 200 and "$25.00" not in cards.text
    assert f'id="post-card-{product_id}" data-testid="post-product-live" hx-swap-oob="true"' in cards.text
    assert "$18.00" in cards.text
    assert "$18.00" in (await client.get(f"/posts/{post['id']}", headers=HTML)).text


async def test_clicking_a_card_records_a_touch_and_carries_the_post_to_the_product(
    client: AsyncClient, app: Litestar
) -> None:
    _, product_id, post, _ = await post_with_product(client)
    client.cookies.clear()
    opened = await client.get(f"/posts/{post['id']}/products/{product_id}", headers=HTML, follow_redirects=False)
    assert opened.status_code in (302, 303, 307)
    assert opened.headers["location"] == f"/shop/products/{product_id}?post_id={post['id']}"
    visitor = opened.cookies.get("lc_visitor")
    assert visitor
    assert (await client.get(f"/posts/{post['id']}", headers=HTML)).status_code == 200  # the cookie goes along
    reader = await browse_as(client, name="Reader")
    await client.get(f"/posts/{post['id']}", headers=HTML)
    buy_now = await client.get(
        f"/posts/{post['id']}/products/{product_id}?buy=true", headers=HTMX, follow_redirects=True
    )
    assert buy_now.status_code == 200 and 'data-testid="quick-buy-form"' in buy_now.text  # redirected to quick buy
    await app.state.touches.flush()
    async with app.state.db.sessionmaker() as session:
        touches = list(await session.scalars(select(Touch).order_by(Touch.at, Touch.id)))
    author = post["author"]["id"]
    assert [
        (t.kind, str(t.post_id), str(t.product_id) if t.product_id else None, str(t.creator_id), t.visitor_id,
         str(t.user_id) if t.user_id else None)
        for t in touches
    ] == [
        ("click", post["id"], product_id, author, visitor, None),
        ("view", post["id"], None, author, visitor, None),
        ("view", post["id"], None, author, None, reader["id"]),
        ("click", post["id"], product_id, author, None, reader["id"]),
    ]  # fmt: skip


async def test_quick_buy_from_a_post_places_an_order_credited_to_the_posts_author(client: AsyncClient) -> None:
    _, product_id, post, _ = await post_with_product(client, price=2500)
    await browse_as(client, name="Sam")
    form = await client.get(f"/shop/products/{product_id}/buy?post_id={post['id']}", headers=HTMX)
    assert form.status_code == 200 and f'id="quick-buy-{product_id}"' in form.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    assert f'name="post_id" value="{post["id"]}"' in form.text
    data = {"idempotency_key": key, "post_id": post["id"], "quantity": "2", "card": "tok_ok", **ADDRESS}
    placed = await submit(client, f"/shop/products/{product_id}/buy", data, htmx=True)
    assert placed.status_code == 200, placed.text
    assert 'data-testid="quick-buy-placed"' in placed.text
    again = await submit(client, f"/shop/products/{product_id}/buy", data, htmx=True)  # a double click
    assert again.status_code == 200
    orders = (await client.get("/api/shop/orders")).json()["items"]
    assert len(orders) == 1
    line = orders[0]["items"][0]
    assert line["quantity"] == 2
    assert line["source"] == {"post_id": post["id"]}
    assert line["creator_id"] == post["author"]["id"]


async def test_quick_buy_shows_mistakes_in_place_and_asks_strangers_to_sign_in(client: AsyncClient) -> None:
    _, product_id, post, _ = await post_with_product(client)
    client.cookies.clear()
    anonymous = await client.get(f"/shop/products/{product_id}/buy?post_id={post['id']}", headers=HTMX)
    assert "Sign in to buy" in anonymous.text and "quick-buy-form" not in anonymous.text
    await browse_as(client)
    form = await client.get(f"/shop/products/{product_id}/buy?post_id={post['id']}", headers=HTMX)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    data = {"idempotency_key": key, "post_id": post["id"], "quantity": "1", "card": "tok_ok", **ADDRESS, "city": ""}
    refused = await submit(client, f"/shop/products/{product_id}/buy", data, htmx=True)
    assert refused.status_code == 422 and 'data-testid="quick-buy-form"' in refused.text
    assert (await client.get("/api/shop/orders")).json()["items"] == []
    plain = await submit(client, f"/shop/products/{product_id}/buy", {**data, "city": "Springfield"})  # no script
    assert plain.status_code == 303 and plain.headers["location"].startswith("/shop/orders?placed=")
    assert len((await client.get("/api/shop/orders")).json()["items"]) == 1


async def test_likes_comments_and_their_removal_through_htmx(client: AsyncClient) -> None:
    _, _, post, _ = await post_with_product(client)
    await browse_as(client, name="Reader")
    liked = await submit(client, f"/posts/{post['id']}/like", {"liked": "false"}, htmx=True)
    assert liked.status_code == 200 and 'aria-pressed="true"' in liked.text
    assert '<span data-testid="like-count">1</span>' in liked.text
    xss = "<script>window.__xss=1</script>"
    added = await submit(client, f"/posts/{post['id']}/comments", {"text": xss}, htmx=True)
    assert added.status_code == 200
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in added.text and xss not in added.text
    comment_id = re.search(r'id="comment-([0-9a-f-]+)"', added.text).group(1)  # type: ignore[union-attr]
    page = await client.get(f"/posts/{post['id']}", headers=HTML)
    assert xss not in page.text and "&lt;script&gt;" in page.text
    removed = await submit(client, f"/comments/{comment_id}/delete", {}, htmx=True)
    assert removed.status_code == 200 and removed.text == ""
    assert (await client.get(f"/api/community/posts/{post['id']}")).json()["comment_count"] == 0


async def test_creator_page_follow_button(client: AsyncClient) -> None:
    star, token = await creator(client)
    await publish(client, token, "first post", title="Hello fans")
    await browse_as(client, name="Fan")
    page = await client.get(f"/creators/{star['id']}", headers=HTML)
    assert page.status_code == 200 and "Hello fans" in page.text and 'data-testid="follow-button"' in page.text
    followed = await submit(client, f"/creators/{star['id']}/follow", {"following": "false"}, htmx=True)
    assert "Following" in followed.text and '<span data-testid="follower-count">1</span>' in followed.text
    again = await submit(client, f"/creators/{star['id']}/follow", {"following": "true"}, htmx=True)
    assert '<span data-testid="follower-count">0</span>' in again.text


async def test_editor_previews_saves_drafts_and_publishes(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, price=1234)
    await browse_as(client, ["influencer"], name="Writer")
    assert (await client.get("/studio/posts/new", headers=HTML)).status_code == 200
    token = await csrf_token(client, "/studio/posts/new")
    preview = await client.post(
        "/studio/posts/preview",
        data={"body": f"**bold** <img src=x onerror=alert(1)>\n\n[[product:{product_id}]]"},
        headers={**HTMX, "x-csrftoken": token},
    )
    assert preview.status_code == 200
    assert "<strong>bold</strong>" in preview.text and "onerror" not in preview.text and "$12.34" in preview.text
    unknown = await client.post(
        "/studio/posts/preview", data={"body": "[[product:nope]]"}, headers={**HTMX, "x-csrftoken": token}
    )
    assert "nope" in unknown.text

    fields = {"title": "My picks", "body": f"[[product:{product_id}]]", "hashtags": "#picks", "status": "draft"}
    saved = await submit(client, "/studio/posts", fields)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/edit?saved=1")
    post_id = saved.headers["location"].split("/")[3]
    assert (await client.get(f"/api/community/posts/{post_id}")).json()["status"] == "draft"
    published = await submit(client, f"/studio/posts/{post_id}", {**fields, "status": "published"})
    assert published.status_code == 303 and published.headers["location"] == f"/posts/{post_id}"
    assert (await client.get(f"/api/community/posts/{post_id}")).json()["hashtags"] == ["picks"]
    bad = await submit(client, "/studio/posts", {**fields, "body": "[[product:ghost]]"})
    assert bad.status_code == 422 and "ghost" in bad.text


async def test_studio_is_for_creators_and_drafts_are_private_pages(client: AsyncClient) -> None:
    _, token = await creator(client)
    draft = await publish(client, token, status="draft")
    await browse_as(client, name="Buyer")
    assert (await client.get("/studio/posts", headers=HTML)).status_code == 403
    assert (await client.get(f"/posts/{draft['id']}", headers=HTML)).status_code == 404


async def test_leaderboard_page_and_tabs(client: AsyncClient) -> None:
    page = await client.get("/leaderboard", headers=HTML)
    assert page.status_code == 200 and "This week" in page.text and "This month" in page.text
    tab = await client.get("/leaderboard?period=month", headers=HTMX)
    assert tab.status_code == 200 and 'id="leaderboard"' in tab.text and "<html" not in tab.text
    assert tab.headers["hx-push-url"] == "/leaderboard?period=month"


async def test_an_empty_comment_comes_back_in_its_form_with_the_reason(client: AsyncClient) -> None:
    _, token = await creator(client)
    post = await publish(client, token, "Hello readers")
    await browse_as(client, name="Reader")
    csrf = await csrf_token(client)
    path = f"/posts/{post['id']}/comments"
    htmx = await client.post(
        path, data={"text": "   "}, headers={"hx-request": "true", "accept": "*/*", "x-csrftoken": csrf}
    )
    assert htmx.status_code == 422 and htmx.headers["content-type"].startswith("text/html")
    assert (
        htmx.text.lstrip().startswith('<form id="comment-form"') and 'id="e-text">Write something first.' in htmx.text
    )
    plain = await submit(client, path, {"text": " "})
    assert plain.status_code == 422 and "<h1" in plain.text and "Hello readers" in plain.text
    assert 'id="e-text">Write something first.' in plain.text
    assert (await client.get(f"/api/community/posts/{post['id']}")).json()["comment_count"] == 0


async def test_studio_shows_a_too_long_bio_and_a_blank_title_beside_their_fields(client: AsyncClient) -> None:
    star = await browse_as(client, ["influencer"], name="Writer")
    long_bio = "b" * 2001
    refused = await submit(client, "/studio/bio", {"bio": long_bio})
    assert refused.status_code == 422 and 'id="e-bio">At most 2000 characters.' in refused.text
    assert long_bio in refused.text
    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["bio"] == ""
    saved = await submit(client, "/studio/bio", {"bio": "Linen and light."})
    assert saved.status_code == 303
    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["bio"] == "Linen and light."

    untitled = await submit(client, "/studio/posts", {"title": "  ", "body": "Hi", "hashtags": "", "status": "draft"})
    assert untitled.status_code == 422 and 'id="e-title"' in untitled.text and "Required." in untitled.text
