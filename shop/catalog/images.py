"""Product images: checked by their bytes (not the name or the declared type), stored in the media folder."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import UUID

from kernel.errors import RuleBroken

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Raster formats only: an SVG can carry script, so it is refused like any other unknown type.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)


def image_kind(data: bytes, field: str = "image") -> str:
    """``png``, ``jpg`` or ``webp`` from the file's first bytes; anything else is refused naming ``field``."""
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise RuleBroken(
        "unsupported_image",
        "Upload a PNG, JPEG or WebP image.",
        errors=[{"field": field, "message": "not a PNG, JPEG or WebP file"}],
    )


def store_image(media_dir: Path, product_id: UUID, data: bytes) -> str:
    """Write the image and return its path relative to the media folder (content-addressed, so caches are safe)."""
    if not data:
        raise RuleBroken("empty_image", "The uploaded file is empty.", errors=[{"field": "image", "message": "empty"}])
    if len(data) > MAX_IMAGE_BYTES:
        raise RuleBroken(
            "image_too_large",
            f"Images may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.",
            errors=[{"field": "image", "message": "too large"}],
        )
    extension = image_kind(data)
    relative = f"products/{product_id}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative
