"""What every request's input must be before a handler sees it: JSON types as sent, and no control characters.

Both checks run as the app's ``before_request`` hook, so every route, present and future, gets them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import ValidationException

# C0 control characters but tab, line feed and carriage return, which multi-line text (posts, descriptions) uses.
# NUL in particular is refused by PostgreSQL's text columns; none of them is ever meant in a name, an address or a
# search, and they hide text from people who read it.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Only a JSON body holding one of them escaped (raw ones are invalid JSON) is decoded and searched for the field.
_ESCAPED_CONTROL = re.compile(rb"\\u00[01][0-9a-f]", re.IGNORECASE)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def check_input(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook: refuse control characters anywhere, then check JSON bodies strictly."""
    await refuse_control_characters(request)
    await strict_json_body(request)


async def refuse_control_characters(request: Request[Any, Any, Any]) -> None:
    """A 400 problem naming the first field (path, query, JSON or form) that holds a control character."""
    for source, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        if field := _first_bad(items):
            _refuse(field, source)
    content_type = request.content_type[0]
    if "json" in content_type:
        body = await request.body()
        if _ESCAPED_CONTROL.search(body):
            try:
                document = msgspec.json.decode(body)
            except msgspec.DecodeError:
                return  # not JSON at all: Litestar's own parsing answers that
            if field := _first_bad_in(document, ""):
                _refuse(field, "body")
    elif content_type in _FORMS:
        form = await request.form()
        if field := _first_bad((k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)):
            _refuse(field, "body")


def _first_bad(items: Iterable[tuple[str, Any]]) -> str | None:
    for key, value in items:
        if CONTROL.search(key) or (isinstance(value, str) and CONTROL.search(value)):
            return key
    return None


def _first_bad_in(value: Any, path: str) -> str | None:
    """The dotted path (``shipping_address.line1``, ``items[0].product_id``) of the first string with one."""
    if isinstance(value, str):
        return (path or "body") if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if CONTROL.search(str(key)):
                return inner
            if found := _first_bad_in(item, inner):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _first_bad_in(item, f"{path}[{index}]"):
                return found
    return None


def _refuse(field: str, source: str) -> None:
    message = f"`{field}` holds a control character (such as NUL); remove it and send again."
    raise ValidationException(detail=message, extra=[{"message": message, "key": field, "source": source}])


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Check a JSON body against its Struct with msgspec's strict rules before Litestar converts it.

    Litestar converts bodies with ``strict=False``, which would take ``100.0`` or ``"100"`` as ``100``; this API
    takes JSON types as sent, so a float or a string never becomes an amount or a quantity.
    """
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or not field.is_subclass_of(msgspec.Struct) or "json" not in request.content_type[0]:
        return
    try:
        msgspec.json.decode(await request.body(), type=field.annotation)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": str(exc), "key": "data", "source": "body"}],
        ) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own parsing answers that
