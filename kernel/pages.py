"""The home page."""

from __future__ import annotations

from litestar import get
from litestar.response import Template


@get("/", include_in_schema=False)
async def home() -> Template:
    return Template("home.html")
