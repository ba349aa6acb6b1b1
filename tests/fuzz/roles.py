"""Who is meant to call each operation: the demo account the fuzzers sign in as, so requests get past the guards
and reach the code behind them."""

from __future__ import annotations

# Every demo role; ava is the influencer who hosts a room and writes posts.
ROLE_EMAILS = {
    "buyer": "buyer@demo.livecommerce.test",
    "seller": "seller@demo.livecommerce.test",
    "influencer": "ava@demo.livecommerce.test",
    "marketer": "marketer@demo.livecommerce.test",
    "admin": "admin@demo.livecommerce.test",
}

# (method or "*", path prefix, role): the first match wins; whatever matches none is a buyer's.
OPERATION_ROLES = [
    ("*", "/api/admin/", "admin"),
    ("*", "/api/reports/", "marketer"),
    ("*", "/api/attribution/", "influencer"),
    ("POST", "/api/shop/products", "seller"),
    ("PATCH", "/api/shop/products/", "seller"),
    ("PUT", "/api/shop/products/", "seller"),
    ("DELETE", "/api/shop/products/", "seller"),
    ("GET", "/api/shop/sales", "seller"),
    ("GET", "/api/shop/balances", "seller"),
    ("POST", "/api/shop/orders/{order_id}/ship", "seller"),
    ("POST", "/api/shop/orders/{order_id}/cancel", "seller"),
    ("POST", "/api/shop/disputes/{dispute_id}/resolve", "seller"),
    ("*", "/api/live/", "influencer"),
    ("*", "/live/rooms/{room_id}/whip", "influencer"),
    ("POST", "/api/community/posts", "influencer"),  # but not its comments and likes, below
    ("GET", "/api/community/posts/{post_id}", "influencer"),  # the author, who also sees her drafts
    ("PATCH", "/api/community/posts/", "influencer"),
    ("DELETE", "/api/community/posts/{post_id}", "influencer"),
    ("PATCH", "/api/community/creators/me", "influencer"),
    ("POST", "/api/community/creators/me/avatar", "influencer"),
]
BUYER_ACTIONS_ON_POSTS = ("/comments", "/likes")


def role_for(method: str, path: str) -> str:
    """The role meant to call ``method path`` (the path as the OpenAPI document writes it)."""
    if path.startswith("/api/community/posts/") and path.endswith(BUYER_ACTIONS_ON_POSTS):
        return "buyer"
    for wanted, prefix, role in OPERATION_ROLES:
        exact = "{" in prefix or not prefix.endswith("/")
        matches = path == prefix or path.startswith(prefix + "/") if exact else path.startswith(prefix)
        if wanted in ("*", method.upper()) and matches:
            return role
    return "buyer"
