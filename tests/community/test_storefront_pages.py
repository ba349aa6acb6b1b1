"""The storefront editor (/studio/storefront) and the studio's product picker as a browser and htmx use them: bio,
links and picture saved or refused beside their fields, products featured and removed, and the public profile
showing it all; the picker's results for the post editor, the showcase and referral links."""

from __future__ import annotations

import re

from httpx import AsyncClient

from tests.factories import bearer
from tests.pages import HTML, HTMX, browse_as, csrf_token, submit
from tests.shop.helpers import seller_with_product

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_bio_and_links_are_saved_and_shown_on_the_public_profile(client: AsyncClient) -> None:
    me = await browse_as(client, ["influencer"], name="Rae")
    saved = await submit(
        client,
        "/studio/storefront",
        {
            "bio": "Linen & <b>clay</b>",
            "links[0].label": "My blog",
            "links[0].url": "https://rae.example/blog",
            "links[2].label": "",
            "links[2].url": "",
        },
    )
    assert saved.status_code == 303

    profile = await client.get(f"/creators/{me['id']}", headers=HTML)
    assert "Linen &amp; &lt;b&gt;clay&lt;/b&gt;" in profile.text
    assert '<a href="https://rae.example/blog" rel="nofollow noopener" target="_blank">My blog</a>' in profile.text
    editor = await client.get("/studio/storefront", headers=HTML)
    assert 'value="https://rae.example/blog"' in editor.text


async def test_a_link_that_is_not_https_is_refused_beside_its_field_and_nothing_changes(client: AsyncClient) -> None:
    me = await browse_as(client, ["influencer"])
    assert (await submit(client, "/studio/storefront", {"bio": "Before"})).status_code == 303
    for url in ("javascript:alert(1)", "http://plain.example", "rae.example"):
        refused = await submit(
            client,
            "/studio/storefront",
            {"bio": "After", "links[1].label": "Shop", "links[1].url": url},
        )
        assert refused.status_code == 422, (url, refused.text)
        assert 'id="e-links[0].url"' in refused.text  # blank rows are dropped: the one link is the first
        assert f'value="{url}"' in refused.text and ">After</textarea>" in refused.text
    long_label = await submit(client, "/studio/storefront", {"links[0].label": "x" * 41, "links[0].url": "https://a.b"})
    assert long_label.status_code in (400, 422) and 'id="e-links[0].label"' in long_label.text
    profile = await client.get(f"/creators/{me['id']}", headers=HTML)
    assert (
        "Before" in profile.text and "After" not in profile.text and 'data-testid="creator-links"' not in profile.text
    )


async def test_the_picture_is_checked_by_its_bytes(client: AsyncClient) -> None:
    me = await browse_as(client, ["influencer"])
    token = await csrf_token(client, "/studio/storefront")
    fake = await client.post(
        "/studio/storefront/avatar",
        files={"image": ("me.png", b"GIF89a not really", "image/png")},
        headers={**HTML, "x-csrftoken": token},
    )
    assert fake.status_code == 422 and 'id="e-image"' in fake.text
    real = await client.post(
        "/studio/storefront/avatar",
        files={"image": ("me.bin", PNG, "application/octet-stream")},
        headers={**HTML, "x-csrftoken": token},
        follow_redirects=False,
    )
    assert real.status_code == 303
    profile = await client.get(f"/creators/{me['id']}", headers=HTML)
    src = re.search(r'<img class="avatar avatar-lg" src="([^"]+)"', profile.text)
    assert src and (await client.get(src.group(1))).content == PNG


async def test_products_are_found_by_name_featured_and_removed(client: AsyncClient) -> None:
    listed = {}
    for title in ("Stoneware mug", "Linen scarf"):
        seller, product_id = await seller_with_product(client)
        named = await client.patch(f"/api/shop/products/{product_id}", json={"title": title}, headers=bearer(seller))
        assert named.status_code == 200, named.text
        listed[title] = product_id
    mug = listed["Stoneware mug"]
    me = await browse_as(client, ["influencer"])

    picks = await client.get("/studio/products/picks", params={"q": "stonew", "pick": "showcase"}, headers=HTMX)
    assert picks.status_code == 200
    assert picks.text.count('data-testid="product-pick"') == 1 and "Stoneware mug" in picks.text
    assert 'action="/studio/storefront/showcase"' in picks.text and f'value="{mug}"' in picks.text
    embed = await client.get("/studio/products/picks", params={"q": "mug"}, headers=HTMX)
    assert f'data-embed="[[product:{mug}]]"' in embed.text
    link = await client.get("/studio/products/picks", params={"q": "mug", "pick": "link"}, headers=HTMX)
    assert 'action="/studio/links"' in link.text
    none = await client.get("/studio/products/picks", params={"q": "zzz"}, headers=HTMX)
    assert "No product matches" in none.text and 'data-testid="product-pick"' not in none.text

    assert (await submit(client, "/studio/storefront/showcase", {"product_id": mug})).status_code == 303
    profile = await client.get(f"/creators/{me['id']}", headers=HTML)
    assert "Showcase" in profile.text and "Stoneware mug" in profile.text
    unknown = await submit(client, "/studio/storefront/showcase", {"product_id": "nope"})
    assert unknown.status_code == 422 and "nope" in unknown.text

    removed = await submit(client, f"/studio/storefront/showcase/{mug}/remove", {})
    assert removed.status_code == 303
    assert "Stoneware mug" not in (await client.get(f"/creators/{me['id']}", headers=HTML)).text


async def test_studio_pages_refuse_everyone_but_creators(client: AsyncClient) -> None:
    paths = ["/studio/storefront", "/studio/products/picks?q=a", "/studio/links", "/studio/coupons"]
    client.cookies.clear()
    for path in paths:
        anonymous = await client.get(path, headers=HTML, follow_redirects=False)
        assert anonymous.status_code in (302, 303) and "/signin" in anonymous.headers["location"], path
    await browse_as(client, ["buyer", "seller"])
    for path in paths:
        assert (await client.get(path, headers=HTML)).status_code == 403, path
    refused = await submit(client, "/studio/storefront", {"bio": "Not a creator"})
    assert refused.status_code == 403
