"""The seller's product page: list with pictures, edit, order and delete pictures, archive; all as forms."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response

from tests.factories import bearer, signed_in
from tests.pages import HTML, HTMX, browse_as, csrf_token, submit
from tests.shop.helpers import picture, usd

LISTING = {
    "title": "Canvas tote",
    "category": "fashion",
    "price": "19.99",
    "stock": "7",
    "affiliate_rate": "10",
    "description": "Roomy.",
}


async def post_files(
    client: AsyncClient, path: str, data: dict[str, str], files: list[bytes], htmx: bool = False
) -> Response:
    """A multipart form, as a browser posts one with its file field ``pictures``."""
    token = await csrf_token(client)
    parts = [("pictures", (f"p{n}.png", content, "image/png")) for n, content in enumerate(files)]
    headers = {**HTMX, "x-csrftoken": token} if htmx else HTML
    body = data if htmx else {**data, "_csrf_token": token}
    return await client.post(path, data=body, files=parts, headers=headers, follow_redirects=False)


async def listed(client: AsyncClient, **overrides: str) -> dict[str, Any]:
    created = await post_files(
        client, "/shop/seller/products", {**LISTING, **overrides}, [picture(colour="red"), picture(colour="blue")]
    )
    assert created.status_code == 303, created.text
    me = (await client.get("/api/me")).json()
    (product,) = (await client.get(f"/api/shop/products?seller_id={me['id']}")).json()["items"]
    return product


async def test_a_seller_lists_a_product_with_two_pictures_in_one_form(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    product = await listed(client)
    assert len(product["images"]) == 2 and product["image_url"] == product["images"][0]["url"]

    shop = await client.get("/shop", headers=HTML)
    assert product["thumbnail_url"] in shop.text
    page = await client.get(f"/shop/products/{product['id']}", headers=HTML)
    assert product["image_url"] in page.text and product["images"][1]["thumbnail_url"] in page.text


async def test_a_picture_that_is_not_one_is_shown_beside_the_field_and_nothing_is_listed(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    refused = await post_files(client, "/shop/seller/products", LISTING, [picture(), b"GIF89a not allowed"])
    assert refused.status_code == 422
    assert 'id="e-pictures"' in refused.text and "PNG, JPEG or WebP" in refused.text
    me = (await client.get("/api/me")).json()
    assert (await client.get(f"/api/shop/products?seller_id={me['id']}")).json()["items"] == []


async def test_the_seller_edits_price_and_stock_and_mistakes_show_beside_their_fields(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    product = await listed(client)
    path = f"/shop/seller/products/{product['id']}"
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200 and 'value="19.99"' in page.text

    bad = await submit(client, path, {**LISTING, "price": "12.345", "stock": "-1"})
    assert bad.status_code == 422 and "Use at most 2 decimal places." in bad.text
    htmx_bad = await submit(client, path, {**LISTING, "stock": "lots"}, htmx=True)
    assert htmx_bad.status_code == 422 and htmx_bad.text.lstrip().startswith('<form id="product-form"')
    assert "Enter a whole number." in htmx_bad.text
    unchanged = (await client.get(f"/api/shop/products/{product['id']}")).json()
    assert unchanged["price"] == usd(1999) and unchanged["stock"] == 7

    saved = await submit(client, path, {**LISTING, "price": "24.50", "stock": "3", "description": "Roomier."})
    assert saved.status_code == 303 and saved.headers["location"] == path
    changed = (await client.get(f"/api/shop/products/{product['id']}")).json()
    assert changed["price"] == usd(2450) and changed["stock"] == 3 and changed["description"] == "Roomier."
    again = await submit(client, path, {**LISTING, "price": "30"}, htmx=True)
    assert again.status_code == 200 and "Changes saved" in again.text


async def test_the_seller_adds_orders_and_deletes_pictures_from_the_page(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    product = await listed(client)
    path = f"/shop/seller/products/{product['id']}"
    first, second = (i["id"] for i in product["images"])

    added = await post_files(client, f"{path}/images", {}, [picture(colour="green")], htmx=True)
    assert added.status_code == 200 and added.text.count('data-testid="picture"') == 3
    third = (await client.get(f"/api/shop/products/{product['id']}")).json()["images"][2]["id"]

    cover = await submit(client, f"{path}/images/{third}/move", {"to": "0"})
    assert cover.status_code == 303
    images = (await client.get(f"/api/shop/products/{product['id']}/images")).json()
    assert [i["id"] for i in images] == [third, first, second]

    deleted = await submit(client, f"{path}/images/{first}/delete", {}, htmx=True)
    assert deleted.status_code == 200 and "Picture deleted" in deleted.text
    images = (await client.get(f"/api/shop/products/{product['id']}/images")).json()
    assert [i["id"] for i in images] == [third, second]

    junk = await post_files(client, f"{path}/images", {}, [b"\xff\xd8\xff not really a jpeg"])
    assert junk.status_code == 422 and 'id="e-pictures"' in junk.text
    empty = await post_files(client, f"{path}/images", {}, [], htmx=True)
    assert empty.status_code == 422 and "Choose a file." in empty.text
    assert len((await client.get(f"/api/shop/products/{product['id']}/images")).json()) == 2


async def test_archiving_from_the_page_hides_the_product_from_the_shop_until_it_is_back_on_sale(
    client: AsyncClient,
) -> None:
    await browse_as(client, ["seller"])
    product = await listed(client, title="Archived tote")
    path = f"/shop/seller/products/{product['id']}"

    archived = await submit(client, f"{path}/archive", {})
    assert archived.status_code == 303 and archived.headers["location"] == path
    page = await client.get(path, headers=HTML)
    assert 'data-testid="archived"' in page.text and "Put back on sale" in page.text
    dashboard = await client.get("/shop/seller", headers=HTML)
    assert "Archived tote" in dashboard.text and "Archived</span>" in dashboard.text
    client.cookies.clear()
    assert "Archived tote" not in (await client.get("/shop", headers=HTML)).text
    assert (await client.get(f"/shop/products/{product['id']}", headers=HTML)).status_code == 404


async def test_another_seller_cannot_see_or_change_the_product_from_the_pages(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    product = await listed(client)
    path = f"/shop/seller/products/{product['id']}"
    image = product["images"][0]["id"]
    await browse_as(client, ["seller"], name="Stranger")

    assert (await client.get(path, headers=HTML)).status_code == 403
    for target, data in [
        (path, {**LISTING, "price": "1"}),
        (f"{path}/archive", {}),
        (f"{path}/images/{image}/delete", {}),
        (f"{path}/images/{image}/move", {"to": "1"}),
    ]:
        assert (await submit(client, target, data)).status_code == 403, target
    assert (await post_files(client, f"{path}/images", {}, [picture()])).status_code == 403
    after = (await client.get(f"/api/shop/products/{product['id']}")).json()
    assert after["price"] == usd(1999) and after["archived"] is False and len(after["images"]) == 2


async def test_buyers_are_refused_the_product_pages(client: AsyncClient) -> None:
    _, seller = await signed_in(client, ["seller"])
    created = await client.post(
        "/api/shop/products",
        headers=bearer(seller),
        json={"title": "Mug", "description": "", "category": "home", "price": usd(900), "stock": 2},
    )
    await browse_as(client, ["buyer"])
    path = f"/shop/seller/products/{created.json()['id']}"
    assert (await client.get(path, headers=HTML)).status_code == 403
    assert (await submit(client, f"{path}/archive", {})).status_code == 403
