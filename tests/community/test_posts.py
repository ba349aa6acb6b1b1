"""Posts through the JSON API: writing, embeds, drafts, editing and deleting, and who may do what."""

from __future__ import annotations

from httpx import AsyncClient

from tests.community.helpers import creator, publish
from tests.factories import bearer, signed_in
from tests.shop.helpers import make_admin, seller_with_product, usd


async def test_markdown_post_renders_sanitised_html_with_a_live_product_embed(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=7)
    _, token = await creator(client)
    post = await publish(
        client,
        token,
        f"# Summer picks\n\nMy **favourite** shirt:\n\n[[product:{product_id}]]\n",
        hashtags=["#Summer", "linen", "summer"],
    )
    assert "<h1>Summer picks</h1>" in post["html"]
    assert "<strong>favourite</strong>" in post["html"]
    assert f'<div class="product-embed" data-product-id="{product_id}"></div>' in post["html"]
    assert [p["id"] for p in post["products"]] == [product_id]
    assert post["products"][0]["price"] == usd(2500)
    assert post["hashtags"] == ["summer", "linen"]
    assert post["status"] == "published" and post["published_at"]

    changed = await client.patch(
        f"/api/shop/products/{product_id}", json={"price": usd(1999), "stock": 3}, headers=bearer(seller)
    )
    assert changed.status_code == 200, changed.text
    again = (await client.get(f"/api/community/posts/{post['id']}")).json()
    assert again["products"][0]["price"] == usd(1999)
    assert again["products"][0]["stock"] == 3


async def test_embedding_a_product_that_does_not_exist_is_refused_naming_it(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    _, token = await creator(client)
    ghost = "0192f0c0-0000-7000-8000-00000000dead"
    response = await client.post(
        "/api/community/posts",
        json={"title": "Picks", "body": f"[[product:{product_id}]] [[product:{ghost}]] [[product:nope]]"},
        headers=bearer(token),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/unknown_product"
    assert problem["product_ids"] == [ghost, "nope"]
    assert ghost in problem["detail"] and "nope" in problem["detail"]
    listed = await client.get("/api/community/posts")
    assert listed.json()["items"] == []


async def test_embeds_inside_code_stay_text(client: AsyncClient) -> None:
    _, token = await creator(client)
    post = await publish(client, token, "Write `[[product:anything]]` to embed.\n\n```\n[[product:x]]\n```\n")
    assert post["products"] == []
    assert "<code>[[product:anything]]</code>" in post["html"]


async def test_drafts_are_seen_only_by_their_author(client: AsyncClient) -> None:
    _, token = await creator(client)
    draft = await publish(client, token, "secret", status="draft")
    assert draft["published_at"] is None
    assert (await client.get(f"/api/community/posts/{draft['id']}", headers=bearer(token))).status_code == 200
    _, other = await signed_in(client)
    assert (await client.get(f"/api/community/posts/{draft['id']}", headers=bearer(other))).status_code == 404
    assert (await client.get(f"/api/community/posts/{draft['id']}")).status_code == 404
    patched = await client.patch(
        f"/api/community/posts/{draft['id']}", json={"title": "mine now"}, headers=bearer(other)
    )
    assert patched.status_code == 404
    assert (await client.get("/api/community/posts")).json()["items"] == []

    published = await client.patch(
        f"/api/community/posts/{draft['id']}", json={"status": "published"}, headers=bearer(token)
    )
    assert published.status_code == 200 and published.json()["published_at"]
    assert (await client.get(f"/api/community/posts/{draft['id']}")).status_code == 200


async def test_only_the_author_edits_and_the_author_or_an_admin_deletes(client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    _, token = await creator(client)
    post = await publish(client, token, "v1")
    _, other_creator = await creator(client)
    url = f"/api/community/posts/{post['id']}"
    assert (await client.patch(url, json={"body": "hijacked"}, headers=bearer(other_creator))).status_code == 403
    assert (await client.delete(url, headers=bearer(other_creator))).status_code == 403
    edited = await client.patch(url, json={"body": "v2 *new*", "hashtags": ["fresh"]}, headers=bearer(token))
    assert edited.status_code == 200
    assert "<em>new</em>" in edited.json()["html"] and edited.json()["hashtags"] == ["fresh"]
    assert (await client.get(url)).json()["body"] == "v2 *new*"

    admin = await make_admin(client, app)
    assert (await client.delete(url, headers=bearer(admin))).status_code == 204
    assert (await client.get(url)).status_code == 404
    mine = await publish(client, token, "another")
    assert (await client.delete(f"/api/community/posts/{mine['id']}", headers=bearer(token))).status_code == 204


async def test_only_influencers_write_posts_and_input_is_checked(client: AsyncClient) -> None:
    _, buyer = await signed_in(client)
    body = {"title": "Hi", "body": "x"}
    assert (await client.post("/api/community/posts", json=body, headers=bearer(buyer))).status_code == 403
    assert (await client.post("/api/community/posts", json=body)).status_code == 401
    _, token = await creator(client)
    for bad in (
        {"title": "", "body": "x"},
        {"title": "t", "body": "x", "hashtags": ["a", "b", "c", "d", "e", "f"]},
        {"title": "t", "body": "x", "hashtags": ["no spaces"]},
        {"title": "t", "body": "x", "status": "scheduled"},
        {"title": "t", "body": "x", "author_id": "me"},
    ):
        response = await client.post("/api/community/posts", json=bad, headers=bearer(token))
        assert response.status_code in (400, 422), (bad, response.text)
    assert (await client.get("/api/community/posts")).json()["items"] == []


async def test_list_filters_by_author_and_hashtag_and_pages_without_gaps(client: AsyncClient, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    alice, alice_token = await creator(client)
    _, bob_token = await creator(client)
    ids = []
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        ids.append((await publish(client, alice_token, f"post {n}", hashtags=["linen"] if n % 2 else []))["id"])
    await publish(client, bob_token, "bob's", hashtags=["linen"])

    seen, cursor = [], None
    while True:
        query = f"&cursor={cursor}" if cursor else ""
        page = (await client.get(f"/api/community/posts?author_id={alice['id']}&limit=2{query}")).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    tagged = (await client.get("/api/community/posts?hashtag=%23Linen")).json()["items"]
    assert len(tagged) == 3
    assert all("linen" in p["hashtags"] for p in tagged)


async def test_cover_image_is_checked_by_its_bytes(client: AsyncClient) -> None:
    _, token = await creator(client)
    post = await publish(client, token, "with a cover")
    url = f"/api/community/posts/{post['id']}/cover"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refused = await client.post(url, files={"image": ("x.png", svg, "image/png")}, headers=bearer(token))
    assert refused.status_code == 422
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    stored = await client.post(url, files={"image": ("c.png", png, "image/png")}, headers=bearer(token))
    assert stored.status_code == 200, stored.text
    cover = stored.json()["cover_image_url"]
    assert cover.startswith("/media/posts/") and cover.endswith(".png")
    assert (await client.get(cover)).content == png
