"""The XSS corpus in posts and comments: the stored and served HTML keeps only the allow-listed, inert subset.

The same corpus is loaded in Chromium by tests/e2e/test_community_journey.py.
"""

from __future__ import annotations

from html.parser import HTMLParser

from httpx import AsyncClient

from community.rendering import ATTRIBUTES, TAGS
from tests.community.helpers import creator, publish
from tests.community.xss_corpus import PAYLOADS
from tests.factories import bearer, signed_in
from tests.pages import HTML
from tests.shop.helpers import seller_with_product

SAFE_SCHEMES = ("http://", "https://", "mailto:")


class Inspector(HTMLParser):
    """Collects every element and attribute of a fragment, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(fragment: str, extra_tags: frozenset[str] = frozenset()) -> None:
    inspector = Inspector()
    inspector.feed(fragment)
    for tag, attrs in inspector.found:
        assert tag in TAGS | extra_tags, (tag, fragment)
        for name, value in attrs:
            assert not name.startswith("on") and "hx-" not in name and name != "style", (tag, name, fragment)
            if tag not in extra_tags:
                assert name in ATTRIBUTES.get(tag, set()) | ATTRIBUTES["*"] | {"rel"}, (tag, name)
            if name in ("href", "src"):
                url = (value or "").strip().lower()
                assert url.startswith(SAFE_SCHEMES) or not url or (":" not in url.split("/")[0]), (url, fragment)


async def test_each_payload_is_stored_inert(client: AsyncClient) -> None:
    _, token = await creator(client)
    for payload in PAYLOADS:
        post = await publish(client, token, f"Before\n\n{payload}\n\nAfter")
        assert_inert(post["html"])
        assert post["products"] == []


async def test_the_post_page_serves_the_whole_corpus_inert_with_comments_escaped(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    _, token = await creator(client)
    post = await publish(client, token, "\n\n".join([*PAYLOADS, f"[[product:{product_id}]]"]))
    _, reader = await signed_in(client)
    for payload in PAYLOADS[:8]:
        added = await client.post(
            f"/api/community/posts/{post['id']}/comments", json={"text": payload}, headers=bearer(reader)
        )
        assert added.status_code in (201, 429)
    page = await client.get(f"/posts/{post['id']}", headers=HTML)
    body = page.text.split('data-testid="post-body">', 1)[1].split('<div class="row post-actions">', 1)[0]
    card = body.split('<aside class="post-product card"', 1)
    assert len(card) == 2, "the real embed renders its card"
    assert_inert(card[0])
    comments = page.text.split('id="comments"', 1)[1]
    assert "<script>window.__xss" not in comments and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in comments
    assert "<img src=x" not in comments


EMBED_TRICKS = [
    '[[product:"><script>window.__xss=1</script>]]',
    "[[product:<img/src=x/onerror=window.__xss=1>]]",
    "[[product:javascript:alert(1)]]",
    "[[product:../../api/me]]",
    "[[product:00000000-0000-0000-0000-000000000000\\]]",
]


async def test_embed_tricks_are_refused_naming_them_or_stay_plain_text(client: AsyncClient) -> None:
    _, token = await creator(client)
    for trick in EMBED_TRICKS:
        response = await client.post("/api/community/posts", json={"title": "t", "body": trick}, headers=bearer(token))
        if response.status_code == 201:  # a bracket or space inside means no embed at all: then it is plain text
            assert_inert(response.json()["html"])
            assert response.json()["products"] == []
            continue
        assert response.status_code == 422, trick
        assert response.json()["type"] == "/problems/unknown_product"
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_forged_placeholder_is_stripped_and_never_becomes_a_card(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    _, token = await creator(client)
    forged = f'<div class="product-embed" data-product-id="{product_id}"></div>'
    post = await publish(client, token, f'{forged}\n\n<p data-product-id="{product_id}">x</p>')
    assert "data-product-id" not in post["html"]
    assert post["products"] == []
