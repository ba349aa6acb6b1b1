"""The Markdown renderer and sanitiser on their own: what survives, where embeds go, how links are marked."""

from __future__ import annotations

from community.rendering import embedded_ids, render, split_embeds

PID = "0192f0c0-0000-7000-8000-000000000001"
OTHER = "0192f0c0-0000-7000-8000-000000000002"


def rendered(body: str) -> str:
    return render(body, lambda ref: ref).html


def test_markdown_features_survive_and_links_are_marked_nofollow() -> None:
    html = rendered(
        "## Title\n\n*em* **strong** ~~gone~~ `code`\n\n- one\n- two\n\n> quote\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://example.com) [mail](mailto:me@example.com) "
        "![pic](https://example.com/a.png)"
    )
    for fragment in ("<h2>Title</h2>", "<em>em</em>", "<strong>strong</strong>", "<s>gone</s>", "<code>code</code>",
                     "<li>one</li>", "<blockquote>", "<table>", "<td>2</td>",
                     '<a href="https://example.com" rel="nofollow noopener">site</a>',
                     '<a href="mailto:me@example.com" rel="nofollow noopener">mail</a>',
                     '<img src="https://example.com/a.png" alt="pic">'):  # fmt: skip
        assert fragment in html, fragment


def test_foreign_schemes_lose_their_url() -> None:
    html = rendered('<a href="ftp://example.com/x">ftp</a> <img src="data:image/png;base64,AAAA">')
    assert "ftp://" not in html and "data:" not in html


def test_embeds_become_placeholders_in_order_and_count_once() -> None:
    result = render(f"[[product:{PID}]]\n\nText [[product:{OTHER}]] inline\n\n[[product:{PID}]]", lambda r: r)
    assert result.product_refs == [PID, OTHER]
    assert embedded_ids(result.html) == [PID, OTHER]
    assert result.html.startswith(f'<div class="product-embed" data-product-id="{PID}"></div>')
    pieces = split_embeds(result.html)
    assert [value for kind, value in pieces if kind == "product"] == [PID, OTHER, PID]
    assert "".join(v if k == "html" else "" for k, v in pieces) == result.html.replace(
        f'<div class="product-embed" data-product-id="{PID}"></div>', ""
    ).replace(f'<div class="product-embed" data-product-id="{OTHER}"></div>', "")


def test_marker_lookalikes_written_by_an_author_stay_text() -> None:
    fake = "lcembed0123456789abcdefx0lcembed0123456789abcdefx"
    result = render(f"[[product:{PID}]] {fake}", lambda r: r)
    assert fake in result.html  # each render's marker carries a fresh random nonce: text can never match it
    assert embedded_ids(result.html) == [PID]
