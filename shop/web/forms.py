"""Reading HTML forms: typed amounts become exact minor units, and every mistake names its field.

Pages turn form fields into the same msgspec Structs the JSON API takes, so the services see one shape. Problems
are raised as :class:`~kernel.errors.RuleBroken` with ``errors=[{"field", "message"}]``: a form handler catches
them to show each message beside its field, and anywhere else they become an ordinary problem response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from litestar.datastructures import UploadFile

from kernel.errors import DomainError, RuleBroken
from kernel.money import MINOR_UNITS
from shop.schemas import CheckoutIn, SourceIn

# No price or refund on this platform needs more than 13 digits before the point (see kernel.money.AmountMinor);
# refusing longer numbers early keeps Decimal from building enormous integers out of "1e999999".
MAX_MAJOR_DIGITS = 13
ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
PRODUCT_FIELDS = ("title", "category", "price", "stock", "affiliate_rate", "description")
CHECKOUT_FIELDS = (*ADDRESS_FIELDS, "card", "coupon_code")
T = TypeVar("T")


def _invalid(field: str, message: str) -> RuleBroken:
    return RuleBroken("invalid_form", message, errors=[{"field": field, "message": message}])


def _decimal(text: str, field: str, example: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _invalid(field, f"Enter a number such as {example}.") from None
    if not value.is_finite() or value < 0:
        raise _invalid(field, f"Enter a number such as {example}.")
    if value.adjusted() >= MAX_MAJOR_DIGITS:
        raise _invalid(field, "That number is too large.")
    return value


def minor_units(text: str, currency: str, field: str) -> int:
    """``"25"`` or ``"25.50"`` in major units of ``currency`` as minor units (2550), exactly; never a float."""
    digits = MINOR_UNITS[currency]
    scaled = _decimal(text, field, "25.00" if digits else "2500").scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise _invalid(field, f"Use at most {digits} decimal places." if digits else "Use whole amounts.")
    return int(scaled)


def basis_points(percent: str, field: str) -> int:
    """A percentage such as ``"12.5"`` as basis points (1250)."""
    if not percent.strip():
        return 0
    scaled = _decimal(percent, field, "10").scaleb(2)
    if scaled != scaled.to_integral_value():
        raise _invalid(field, "Use at most two decimal places.")
    return int(scaled)


def whole_number(text: str, field: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _invalid(field, "Enter a whole number.") from None


_MESSAGES = [
    (re.compile(r"Expected `str` of length >= 1\b"), "Required."),
    (re.compile(r"Expected `str` of length >= (\d+)"), "At least {0} characters."),
    (re.compile(r"Expected `str` of length <= (\d+)"), "At most {0} characters."),
    (re.compile(r"Expected `int` >= (\d+)"), "At least {0}."),
    (re.compile(r"Expected `int` <= (\d+)"), "At most {0}."),
    (re.compile(r"Expected `str` matching regex"), "Not in the expected format."),
    (re.compile(r"Invalid enum value"), "Choose one of the options."),
    (re.compile(r"Expected `array` of length >= 1"), "Nothing to order."),
]
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def convert(data: dict[str, Any], type_: type[T], fields: dict[str, str] | None = None) -> T:
    """``data`` as ``type_``, or a RuleBroken naming the form field msgspec refused.

    ``fields`` maps a path in ``type_`` (``price.amount_minor``) to its form field (``price``); otherwise the path's
    last name is the field.
    """
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$.")
        path = where.rstrip("`")
        if missing := _MISSING.search(message):
            path, message = ".".join(p for p in (path, missing.group(1)) if p), "Required."
        for pattern, words in _MESSAGES:
            if match := pattern.search(message):
                message = words.format(*match.groups())
                break
        path = re.sub(r"\[\d+\]", "", path)
        field = (fields or {}).get(path, path.rsplit(".", 1)[-1] or "form")
        raise _invalid(field, message) from None


def field_errors(exc: DomainError) -> dict[str, str]:
    """A form's errors from a DomainError: each named field's message, and the whole sentence under ``form``."""
    errors = {str(e.get("field", "form")): str(e.get("message", "")) for e in exc.extra.get("errors", [])}
    return {"form": exc.detail, **errors}


def product_values(form: Mapping[str, Any]) -> dict[str, str]:
    """A product form's fields, trimmed, to show again."""
    return {name: str(form.get(name, "")).strip() for name in PRODUCT_FIELDS}


def product_form(values: Mapping[str, str], currency: str, type_: type[T]) -> T:
    """A product form as the ProductIn (listing) or ProductPatch (editing) the JSON API takes; a price is typed in
    major units and a creator commission in percent."""
    return convert(
        {
            "title": values["title"],
            "category": values["category"],
            "price": {"amount_minor": minor_units(values["price"], currency, "price"), "currency": currency},
            "stock": whole_number(values["stock"], "stock"),
            "affiliate_rate_bps": basis_points(values["affiliate_rate"], "affiliate_rate"),
            "description": values["description"],
        },
        type_,
        {"price.amount_minor": "price", "affiliate_rate_bps": "affiliate_rate"},
    )


async def uploads(form: Any, name: str) -> list[bytes]:
    """The files chosen in a form's file field ``name``; a field left empty gives none."""
    files = []
    for upload in form.getall(name, []):
        if isinstance(upload, UploadFile) and upload.filename:
            files.append(await upload.read())
    return files


def checkout_values(form: Mapping[str, Any], *extra: str) -> dict[str, str]:
    """A checkout form's own fields (the address, ``card``, ``coupon_code`` and ``extra``), trimmed, to show again."""
    return {name: str(form.get(name, "")).strip() for name in (*CHECKOUT_FIELDS, *extra)}


def checkout_in(values: Mapping[str, str], items: list[dict[str, Any]]) -> CheckoutIn:
    """A checkout form as the CheckoutIn the JSON API takes: the checkout page and quick buy read it alike.

    Args:
        values: The form's fields from :func:`checkout_values`; an empty ``coupon_code`` means none.
        items: One per line: ``product_id``, ``quantity`` as typed, ``source`` (a dict, or the JSON of one as the
            checkout page keeps it in a hidden field; empty or None for none) and optionally ``deal_id``.

    Raises:
        RuleBroken: 422 ``invalid_form`` naming the first field in the way.
    """
    lines = [
        {**item, "quantity": whole_number(item["quantity"], "quantity"), "source": _source(item.get("source"))}
        for item in items
    ]
    return convert(
        {
            "items": lines,
            "shipping_address": {name: values.get(name, "") for name in ADDRESS_FIELDS},
            "payment": {"method": "sandbox", "token": values.get("card", "")},
            **({"coupon_code": values["coupon_code"]} if values.get("coupon_code") else {}),
        },
        CheckoutIn,
    )


def _source(raw: str | dict[str, str] | None) -> SourceIn | dict[str, str] | None:
    if not isinstance(raw, str):
        return raw or None
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw, type=SourceIn)
    except msgspec.DecodeError:
        raise RuleBroken("invalid_form", "The basket's source could not be read; open checkout again.") from None
