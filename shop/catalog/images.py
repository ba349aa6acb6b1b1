"""Product pictures: checked by their bytes (not the name or the declared type), decoded once to prove they are
pictures, resized to a thumbnail at upload, and stored content-addressed in the media folder."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from PIL import Image, UnidentifiedImageError

from kernel.errors import RuleBroken

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGES_PER_PRODUCT = 8
THUMBNAIL_SIZE = (480, 480)
# A small file can still decode into an enormous bitmap (a "decompression bomb"); 40 megapixels covers any camera.
MAX_PIXELS = 40_000_000
# Raster formats only: an SVG can carry script, so it is refused like any other unknown type.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)
_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}


def _refused(code: str, message: str, field_message: str, field: str = "image") -> RuleBroken:
    return RuleBroken(code, message, errors=[{"field": field, "message": field_message}])


def image_kind(data: bytes, field: str = "image") -> str:
    """``png``, ``jpg`` or ``webp`` from the file's first bytes; anything else is refused naming ``field``."""
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise _refused("unsupported_image", "Upload a PNG, JPEG or WebP image.", "not a PNG, JPEG or WebP file", field)


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to the media folder, as uploaded
    thumbnail_path: str  # a WebP at most THUMBNAIL_SIZE, for cards and lists


def _thumbnail(data: bytes, kind: str) -> bytes:
    """The picture decoded and shrunk to a WebP thumbnail; anything that does not decode as ``kind`` is refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as picture:
                if picture.width * picture.height > MAX_PIXELS:
                    raise _refused("image_too_large", "The picture has too many pixels.", "too many pixels")
                picture.thumbnail(THUMBNAIL_SIZE)
                converted = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
                out = io.BytesIO()
                converted.save(out, "WEBP", quality=80)
                return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused(
            "unsupported_image", "The file is not a readable PNG, JPEG or WebP picture.", "unreadable"
        ) from None


def store_image(media_dir: Path, product_id: UUID, data: bytes) -> StoredImage:
    """Check, resize and write one upload; the names carry a hash of the bytes, so caches are safe."""
    if not data:
        raise _refused("empty_image", "The uploaded file is empty.", "empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise _refused("image_too_large", f"Images may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.", "too large")
    kind = image_kind(data)
    thumbnail = _thumbnail(data, kind)
    stem = f"products/{product_id}-{hashlib.sha256(data).hexdigest()[:16]}"
    stored = StoredImage(f"{stem}.{kind}", f"{stem}-thumb.webp")
    for relative, content in ((stored.path, data), (stored.thumbnail_path, thumbnail)):
        target = media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return stored


def remove_files(media_dir: Path, *relative: str) -> None:
    for path in relative:
        (media_dir / path).unlink(missing_ok=True)
