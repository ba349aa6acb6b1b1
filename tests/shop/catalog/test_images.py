"""Product pictures: checked by content, stored in the media folder, served back with safe headers."""

from __future__ import annotations

import struct
import zlib

from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.shop.helpers import seller_with_product


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
