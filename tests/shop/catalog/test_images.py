"""Product pictures: checked by content, stored in the media folder, served back with safe headers."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.shop.helpers import picture, seller_with_product


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


async def test_seller_uploads_a_png_that_is_served_back(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    png = tiny_png()
    response = await client.post(
        f"/api/shop/products/{product_id}/image",
        headers=bearer(seller),
        files={"image": ("shirt.png", png, "image/png")},
    )
    assert response.status_code == 200, response.text
    url = response.json()["image_url"]
    assert url.startswith("/media/products/") and url.endswith(".png")
    served = await client.get(url)
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["image_url"] == url


async def test_svg_and_disguised_files_are_refused(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, body, declared in [
        ("x.svg", svg, "image/svg+xml"),
        ("x.png", svg, "image/png"),
        ("x.png", b"", "image/png"),
    ]:
        response = await client.post(
            f"/api/shop/products/{product_id}/image", headers=bearer(seller), files={"image": (name, body, declared)}
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "image"
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["image_url"] is None


async def test_images_over_five_mib_are_refused(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    huge = tiny_png() + b"\x00" * (6 * 1024 * 1024)
    response = await client.post(
        f"/api/shop/products/{product_id}/image",
        headers=bearer(seller),
        files={"image": ("big.png", huge, "image/png")},
    )
    assert response.status_code == 413


async def test_only_the_products_seller_can_set_its_image(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    _, other_seller = await signed_in(client, ["seller"])
    response = await client.post(
        f"/api/shop/products/{product_id}/image",
        headers=bearer(other_seller),
        files={"image": ("x.png", tiny_png(), "image/png")},
    )
    assert response.status_code == 403


async def add_picture(client: AsyncClient, seller: str, product_id: str, data: bytes, name: str = "p.png") -> Any:
    return await client.post(
        f"/api/shop/products/{product_id}/images", headers=bearer(seller), files={"image": (name, data, "image/png")}
    )


async def test_pictures_keep_their_order_and_the_first_is_the_cover_with_a_small_thumbnail(
    client: AsyncClient,
) -> None:
    from PIL import Image

    seller, product_id = await seller_with_product(client)
    first = (await add_picture(client, seller, product_id, picture("PNG"))).json()
    second = await add_picture(client, seller, product_id, picture("JPEG", colour="orange"), "p.jpg")
    third = await add_picture(client, seller, product_id, picture("WEBP", colour="navy"), "p.webp")
    assert second.status_code == third.status_code == 201, second.text
    second, third = second.json(), third.json()

    product = (await client.get(f"/api/shop/products/{product_id}")).json()
    assert [i["id"] for i in product["images"]] == [first["id"], second["id"], third["id"]]
    assert product["image_url"] == first["url"] and product["thumbnail_url"] == first["thumbnail_url"]
    thumb = await client.get(first["thumbnail_url"])
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as shrunk:
        assert shrunk.format == "WEBP" and max(shrunk.size) <= 480

    reordered = await client.put(
        f"/api/shop/products/{product_id}/images/order",
        headers=bearer(seller),
        json={"image_ids": [third["id"], first["id"], second["id"]]},
    )
    assert reordered.status_code == 200, reordered.text
    listed = (await client.get(f"/api/shop/products/{product_id}/images")).json()
    assert [i["id"] for i in listed] == [third["id"], first["id"], second["id"]]

    gone = await client.delete(f"/api/shop/products/{product_id}/images/{third['id']}", headers=bearer(seller))
    assert gone.status_code == 204
    product = (await client.get(f"/api/shop/products/{product_id}")).json()
    assert [i["id"] for i in product["images"]] == [first["id"], second["id"]]
    assert product["image_url"] == first["url"]
    assert (await client.get(third["url"])).status_code == 404


async def test_a_reorder_must_name_every_picture_once_and_changes_nothing_otherwise(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    ids = [(await add_picture(client, seller, product_id, picture(colour=c))).json()["id"] for c in ("red", "blue")]
    for wrong in ([ids[0]], [ids[0], ids[0]], [ids[1], ids[0], ids[0]]):
        response = await client.put(
            f"/api/shop/products/{product_id}/images/order", headers=bearer(seller), json={"image_ids": wrong}
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "image_ids"
    listed = (await client.get(f"/api/shop/products/{product_id}/images")).json()
    assert [i["id"] for i in listed] == ids


async def test_a_file_that_only_looks_like_a_picture_is_refused(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    fake = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the right first bytes, no picture behind them
    response = await add_picture(client, seller, product_id, fake)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "image"
    assert (await client.get(f"/api/shop/products/{product_id}/images")).json() == []


async def test_a_product_holds_at_most_eight_pictures(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    small = picture(size=(8, 8))
    for _ in range(8):
        assert (await add_picture(client, seller, product_id, small)).status_code == 201
    ninth = await add_picture(client, seller, product_id, small)
    assert ninth.status_code == 422 and ninth.json()["type"].endswith("too_many_images")
    assert len((await client.get(f"/api/shop/products/{product_id}/images")).json()) == 8


async def test_only_the_products_seller_can_add_delete_or_reorder_pictures(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    image_id = (await add_picture(client, seller, product_id, picture())).json()["id"]
    _, other = await signed_in(client, ["seller"])
    assert (await add_picture(client, other, product_id, picture())).status_code == 403
    deleted = await client.delete(f"/api/shop/products/{product_id}/images/{image_id}", headers=bearer(other))
    reordered = await client.put(
        f"/api/shop/products/{product_id}/images/order", headers=bearer(other), json={"image_ids": [image_id]}
    )
    assert deleted.status_code == reordered.status_code == 403
    assert [i["id"] for i in (await client.get(f"/api/shop/products/{product_id}/images")).json()] == [image_id]
