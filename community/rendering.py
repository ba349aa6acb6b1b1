"""Post bodies: Markdown to sanitised HTML, with ``[[product:ID]]`` embeds kept as placeholders.

A body is rendered once, when it is saved. The stored HTML holds one placeholder per embed
(``<div class="product-embed" data-product-id="..."></div>``); the product card is put in at view time
(``split_embeds``), so its price and stock are always current.

The placeholder cannot be forged by an author: ``data-product-id`` is not on the sanitiser's allow-list, so any
such attribute written in the body is dropped, and the embeds themselves become placeholders only after
sanitising, through a marker that carries a nonce fresh for every render. Embeds inside code stay literal text.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

EMBED = re.compile(r"\[\[product:([^\]\s]{1,64})\]\]")
PLACEHOLDER = re.compile(r'<div class="product-embed" data-product-id="([0-9a-f-]{36})"></div>')
MAX_EMBEDS = 20

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"title", "lang"},
    "a": {"href"},
    "img": {"src", "alt"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
# Removed together with everything inside them, rather than leaving their text on the page.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "svg", "math", "object", "embed", "noscript", "template"}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Rendered:
    html: str
    product_refs: list[str]  # as written, in order of first appearance, not yet checked


def _embed_rule(state: StateInline, silent: bool) -> bool:
    match = EMBED.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("product_embed", "", 0)
        token.meta = {"ref": match.group(1)}
    state.pos = match.end()
    return True


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": False}).enable(["table", "strikethrough"])
    md.inline.ruler.before("link", "product_embed", _embed_rule)

    def render_embed(self: Any, tokens: Any, idx: int, options: Any, env: dict[str, Any]) -> str:
        refs: list[str] = env["refs"]
        ref = tokens[idx].meta["ref"]
        if ref not in refs:
            refs.append(ref)
        return f"{env['marker']}{refs.index(ref)}{env['marker']}"

    md.add_render_rule("product_embed", render_embed)
    return md


_MD = _markdown()


def sanitise(fragment: str) -> str:
    """The allow-listed subset of ``fragment``: no script, style, frames, SVG, event handlers or foreign schemes."""
    return nh3.clean(
        fragment,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )


def render(body: str, resolve: Callable[[str], str]) -> Rendered:
    """Render ``body`` (Markdown) to sanitised HTML with embed placeholders.

    Args:
        body: The Markdown as written.
        resolve: Maps an embed reference as written to the canonical product id put in the placeholder (the
            caller checks references before storing; here it only normalises them).
    """
    marker = f"lcembed{secrets.token_hex(8)}x"
    env: dict[str, Any] = {"refs": [], "marker": marker}
    clean = sanitise(_MD.render(body, env))
    refs: list[str] = env["refs"]

    def placeholder(match: re.Match[str]) -> str:
        product_id = html.escape(resolve(refs[int(match.group(1))]))
        return f'<div class="product-embed" data-product-id="{product_id}"></div>'

    # An embed alone in its paragraph replaces the paragraph; one inside text still becomes a card.
    clean = re.sub(rf"<p>{marker}(\d+){marker}</p>", placeholder, clean)
    clean = re.sub(rf"{marker}(\d+){marker}", placeholder, clean)
    return Rendered(clean, refs)


def embedded_ids(stored_html: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(stored_html)))


def split_embeds(stored_html: str) -> list[tuple[str, str]]:
    """The stored HTML cut at its placeholders: ``("html", fragment)`` and ``("product", product_id)`` in order.

    Pages render a product card for each ``product`` piece (the first time a product appears) and write the
    ``html`` pieces as they are, so the page is the stored HTML with live cards in the placeholders' places.
    """
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in PLACEHOLDER.finditer(stored_html):
        pieces.append(("html", stored_html[position : match.start()]))
        pieces.append(("product", match.group(1)))
        position = match.end()
    pieces.append(("html", stored_html[position:]))
    return [piece for piece in pieces if piece[1]]
