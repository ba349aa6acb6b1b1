"""Valid-looking requests built from the OpenAPI document, and the places in them a fuzzer may put a string.

``body_for`` fills every property of an operation's JSON body (optional ones too, so each string field can be
replaced) with a value the API accepts: real ids of the demo shop where a field names a resource, known-good values
where a field has a format the document does not spell out. ``string_fields`` lists where the strings are.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

Path = tuple[str | int, ...]
JSON_METHODS = ("post", "put", "patch", "delete")

# Known-good strings by property name; anything else is plain text.
GOOD_STRINGS = {
    "currency": "USD",
    "country": "US",
    "category": "fashion",
    "slug": "fuzz-goods",
    "method": "sandbox",
    "token": "tok_ok",
    "tracking_number": "1Z999AA10123456784",
    "carrier": "UPS",
    "postal_code": "94107",
    "password": "fuzz-password-0123",
    "code": "FUZZ10",
    "hashtags": "fuzzing",
    "roles": "buyer",
    "url": "https://example.test/shop",
}
GOOD_INTEGERS = {"amount_minor": 2500, "quantity": 1, "stock": 5, "commission_bps": 500, "discount_bps": 1000}
# Optional references the fuzz shop has no good value for: sent as null unless they are the field being fuzzed.
LEFT_NULL = {"deal_id", "message_id", "coupon_code", "scheduled_for"}


@dataclass(frozen=True)
class FuzzShop:
    """Ids of real resources, so that a valid-looking request reaches the code behind the lookups."""

    ids: Mapping[str, str]  # product_id, room_id, post_id, creator_id, order_id, dispute_id, comment_id, user_id

    def id_for(self, name: str) -> str | None:
        singular = name.removesuffix("s")  # product_ids -> product_id
        if singular in self.ids:
            return self.ids[singular]
        if name.endswith("_id") or singular.endswith("_id") or name == "ids":
            return str(uuid4())  # a well-formed id of nothing: the handler looks it up and answers 404
        return None


class Document:
    """An OpenAPI document and the request parts of its operations."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            schema = self.document["components"]["schemas"][name]
        return schema

    def operations(self) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        for path, methods in self.document["paths"].items():
            for method, operation in methods.items():
                if isinstance(operation, Mapping) and "responses" in operation:
                    yield method.upper(), path, operation

    def json_body_schema(self, operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
        content = operation.get("requestBody", {}).get("content", {})
        return self.resolve(content["application/json"]["schema"]) if "application/json" in content else None

    def string_query_parameters(self, operation: Mapping[str, Any]) -> list[str]:
        return [
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query" and "string" in self._types(self.resolve(parameter["schema"]))
        ]

    def _types(self, schema: Mapping[str, Any]) -> list[str]:
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            return [t for branch in branches for t in self._types(self.resolve(branch))]
        kind = schema.get("type", "object" if "properties" in schema else None)
        return kind if isinstance(kind, list) else [kind] if kind else []

    def example(self, schema: Mapping[str, Any], shop: FuzzShop, name: str = "") -> Any:
        """A value of ``schema`` the API should accept, every property filled."""
        schema = self.resolve(schema)
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            usable = [self.resolve(b) for b in branches if self.resolve(b).get("type") != "null"]
            if name in LEFT_NULL and len(usable) < len(branches):
                return None
            return self.example(usable[0], shop, name)
        types = [t for t in self._types(schema) if t != "null"]
        kind = types[0] if types else "object"
        if kind == "object":
            properties = schema.get("properties", {})
            return {key: self.example(sub, shop, key) for key, sub in properties.items()}
        if kind == "array":
            return [self.example(schema.get("items", {}), shop, name)]
        if kind == "integer":
            return GOOD_INTEGERS.get(name, max(int(schema.get("minimum", 1)), 1))  # Litestar writes 1.0
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return False
        if "enum" in schema:
            return schema["enum"][0]
        if schema.get("format") == "date-time":
            return (datetime.now(UTC) + timedelta(days=2)).isoformat()
        if name == "email":
            return f"fuzz-{uuid4().hex[:12]}@example.com"
        return GOOD_STRINGS.get(name) or shop.id_for(name) or f"Fuzz {name.replace('_', ' ')}"

    def string_fields(self, schema: Mapping[str, Any], path: Path = ()) -> Iterator[Path]:
        """Where the strings of ``example(schema)`` are (a null left for an optional string counts)."""
        schema = self.resolve(schema)
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            usable = [self.resolve(b) for b in branches if self.resolve(b).get("type") != "null"]
            yield from self.string_fields(usable[0], path)
            return
        types = self._types(schema)
        if "object" in types:
            for key, sub in schema.get("properties", {}).items():
                yield from self.string_fields(sub, (*path, key))
        elif "array" in types:
            yield from self.string_fields(schema.get("items", {}), (*path, 0))
        elif "string" in types:
            yield path

    def integer_fields(self, schema: Mapping[str, Any], name: str, path: Path = ()) -> Iterator[Path]:
        """Where the integers called ``name`` are (``amount_minor`` in every money field)."""
        schema = self.resolve(schema)
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            usable = [self.resolve(b) for b in branches if self.resolve(b).get("type") != "null"]
            yield from self.integer_fields(usable[0], name, path)
            return
        for key, sub in schema.get("properties", {}).items():
            if key == name and "integer" in self._types(self.resolve(sub)):
                yield (*path, key)
            else:
                yield from self.integer_fields(sub, name, (*path, key))


def replaced(body: Any, path: Path, value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path``."""
    if not path:
        return value
    copied = copy.deepcopy(body)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def field_name(path: Path) -> str:
    """The field as the API's problems name it: ``items[0].product_id``, ``shipping_address.line1``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
