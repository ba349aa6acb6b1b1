"""Every string field of every JSON operation, and every string query parameter of every GET operation, gets each
naughty string in turn, in an otherwise valid request signed in as the role meant to call it: no answer may be a
server error, and every refusal is a problem+json that says what went wrong.

The slice sends NUL bytes and one string of each kind; the full run sends the whole list (about 500 strings).
Money fields get 64-bit amounts: up to a price's ceiling of 10^10 minor units they are taken, past it refused.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from demo import DEMO_PASSWORD
from tests.fuzz import mode
from tests.fuzz.conftest import FuzzServer
from tests.fuzz.figures import record
from tests.fuzz.naughty import full_list, slice_list
from tests.fuzz.request_bodies import Document, FuzzShop, field_name, replaced
from tests.fuzz.roles import ROLE_EMAILS, role_for

pytestmark = pytest.mark.fuzz

STRINGS = full_list() if mode.FULL else slice_list()
CONCURRENCY = 8
MAX_AMOUNT = 10**10  # the API's ceiling for amount_minor
TAKEN_AMOUNTS = [2**31, MAX_AMOUNT]  # 2^31 overflowed 32-bit columns (PostgreSQL answered 500 there)
# A login that works, so each naughty email or password is the only thing wrong with it.
BODY_OVERRIDES = {("POST", "/api/auth/login"): {"email": ROLE_EMAILS["buyer"], "password": DEMO_PASSWORD}}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as the document writes it: /api/shop/products/{product_id}
    role: str
    body: Any = None
    params: dict[str, str] | None = None
    label: str = ""  # what was fuzzed, for the failure message


@dataclass
class Target:
    """The live server, its document, its fuzz shop and a token per role."""

    server: FuzzServer
    document: Document
    shop: FuzzShop
    tokens: dict[str, str]

    def url(self, path: str) -> str:
        for name in ("product_id", "room_id", "post_id", "creator_id", "order_id", "dispute_id", "comment_id"):
            path = path.replace("{" + name + "}", self.shop.ids[name])
        return self.server.base_url + path.replace("{session_id}", str(uuid4()))

    def base_body(self, method: str, path: str, schema: Any) -> Any:
        return {**self.document.example(schema, self.shop), **BODY_OVERRIDES.get((method, path), {})}


async def send(client: httpx.AsyncClient, target: Target, request: Request) -> httpx.Response:
    headers = {"Authorization": f"Bearer {target.tokens[request.role]}", "Idempotency-Key": f"fuzz-{uuid4().hex}"}
    content = None
    if request.body is not None:
        # ASCII JSON (\u escapes): every string of the list gets there intact, whatever its code points.
        content = json.dumps(request.body).encode()
        headers["Content-Type"] = "application/json"
    return await client.request(
        request.method, target.url(request.path), content=content, params=request.params, headers=headers
    )


def fault(request: Request, response: httpx.Response) -> str | None:
    """What is wrong with the answer: a server error, or a refusal that is not a problem+json of its status."""
    where = f"{request.method} {request.path} {request.label}"
    if response.status_code >= 500:
        return f"{where}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        problem_json = response.headers.get("content-type", "").startswith("application/problem+json")
        if not problem_json or response.json().get("status") != response.status_code:
            return f"{where}: {response.status_code} is not a problem+json: {response.text[:300]}"
    return None


async def send_all(target: Target, requests: list[Request]) -> tuple[list[str], dict[int, int]]:
    """Send every request, a few at a time; return the faults and how many answers had each status."""
    faults: list[str] = []
    statuses: dict[int, int] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(client: httpx.AsyncClient, request: Request) -> None:
        async with gate:
            response = await send(client, target, request)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if (problem := fault(request, response)) is not None:
            faults.append(problem)

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:
        await asyncio.gather(*(one(client, request) for request in requests))
    return faults, statuses


def open_fuzz_shop(server: FuzzServer, tokens: dict[str, str]) -> FuzzShop:
    """A product with stock for every checkout of the run, the influencer's demo room and post, two of the buyer's
    orders (one shipped and disputed), and a comment: the ids valid-looking requests refer to."""
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as http:

        def call(role: str, method: str, path: str, **kwargs: Any) -> Any:
            headers = {"Authorization": f"Bearer {tokens[role]}", "Idempotency-Key": f"fuzz-{uuid4().hex}"}
            response = http.request(method, path, headers=headers, **kwargs)
            assert response.status_code < 300, f"{method} {path}: {response.text}"
            return response.json()

        product = call(
            "seller",
            "POST",
            "/api/shop/products",
            json={
                "title": "Fuzz goods",
                "category": "fashion",
                "price": {"amount_minor": 2500, "currency": "USD"},
                "stock": 1_000_000,
                "affiliate_rate_bps": 1000,
            },
        )
        influencer = call("influencer", "GET", "/api/me")["id"]
        buyer = call("buyer", "GET", "/api/me")["id"]
        room = call("influencer", "GET", "/api/live/rooms", params={"host_id": influencer})["items"][0]["id"]
        post = call("buyer", "GET", "/api/community/posts", params={"author_id": influencer})["items"][0]["id"]
        basket = {
            "items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_address": {
                "name": "Sam",
                "line1": "1 Main St",
                "city": "SF",
                "postal_code": "94107",
                "country": "US",
            },
            "payment": {"method": "sandbox", "token": "tok_ok"},
        }
        paid, disputed = (call("buyer", "POST", "/api/shop/checkout", json=basket)["orders"][0] for _ in range(2))
        call(
            "seller",
            "POST",
            f"/api/shop/orders/{disputed['id']}/ship",
            json={"carrier": "UPS", "tracking_number": "1Z999AA1"},
        )
        dispute = call(
            "buyer",
            "POST",
            f"/api/shop/orders/{disputed['id']}/disputes",
            json={"reason": "damaged", "detail": "torn", "requested_refund": {"amount_minor": 100, "currency": "USD"}},
        )
        comment = call("buyer", "POST", f"/api/community/posts/{post}/comments", json={"text": "Nice"})
    return FuzzShop(
        {
            "product_id": product["id"],
            "room_id": room,
            "post_id": post,
            "creator_id": influencer,
            "user_id": buyer,
            "order_id": paid["id"],
            "dispute_id": dispute["id"],
            "comment_id": comment["id"],
        }
    )


@pytest.fixture(scope="module")
def target(fuzz_server: FuzzServer) -> Target:
    tokens = {role: fuzz_server.token(role) for role in ROLE_EMAILS}
    document = httpx.get(f"{fuzz_server.base_url}/schema/openapi.json", timeout=30, trust_env=False).json()
    return Target(fuzz_server, Document(document), open_fuzz_shop(fuzz_server, tokens), tokens)


def json_operations(target: Target) -> Iterator[tuple[str, str, Any]]:
    for method, path, operation in target.document.operations():
        if (schema := target.document.json_body_schema(operation)) is not None:
            yield method, path, schema


async def test_every_valid_looking_body_gets_past_validation_and_the_guards(target: Target) -> None:
    """The bodies the naughty strings go into are themselves accepted (else a refusal would prove nothing)."""
    requests = [
        Request(method, path, role_for(method, path), target.base_body(method, path, schema), label="(as built)")
        for method, path, schema in json_operations(target)
    ]
    assert len(requests) >= 20, "the document lists the JSON operations"
    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        answers = [(request, await send(client, target, request)) for request in requests]
    refused = [
        f"{r.method} {r.path}: {a.status_code} {a.text[:300]}" for r, a in answers if a.status_code in (400, 401, 403)
    ]
    assert not refused, "\n".join(refused)


async def test_no_naughty_string_in_a_json_field_gets_a_server_error(target: Target) -> None:
    requests = []
    for method, path, schema in json_operations(target):
        body = target.base_body(method, path, schema)
        for field in target.document.string_fields(schema):
            for naughty in STRINGS:
                label = f"{field_name(field)}={naughty[:40]!r}"
                requests.append(
                    Request(method, path, role_for(method, path), replaced(body, field, naughty), label=label)
                )
    started = time.monotonic()
    faults, statuses = await send_all(target, requests)
    fields = len({(r.method, r.path, r.label.split("=")[0]) for r in requests})
    record(
        "naughty strings in JSON fields",
        f"{len(STRINGS)} strings x {fields} fields = {len(requests):,} requests in {time.monotonic() - started:.0f} s, "
        f"answers {dict(sorted(statuses.items()))}",
    )
    assert not faults, f"{len(faults)} faults:\n" + "\n".join(faults[:30])


async def test_no_naughty_string_in_a_query_parameter_gets_a_server_error(target: Target) -> None:
    requests = [
        Request(method, path, role_for(method, path), params={name: naughty}, label=f"?{name}={naughty[:40]!r}")
        for method, path, operation in target.document.operations()
        if method == "GET"
        for name in target.document.string_query_parameters(operation)
        for naughty in STRINGS
    ]
    started = time.monotonic()
    faults, statuses = await send_all(target, requests)
    parameters = len({(r.path, next(iter(r.params or {}))) for r in requests})
    record(
        "naughty strings in query parameters",
        f"{len(STRINGS)} strings x {parameters} parameters = {len(requests):,} requests in "
        f"{time.monotonic() - started:.0f} s, answers {dict(sorted(statuses.items()))}",
    )
    assert parameters >= 15, "the document lists the query parameters"
    assert not faults, f"{len(faults)} faults:\n" + "\n".join(faults[:30])


def amount_requests(target: Target, amount: int) -> list[Request]:
    requests = []
    for method, path, schema in json_operations(target):
        body = target.base_body(method, path, schema)
        for field in target.document.integer_fields(schema, "amount_minor"):
            label = f"{field_name(field)}={amount}"
            requests.append(Request(method, path, role_for(method, path), replaced(body, field, amount), label=label))
    return requests


@pytest.mark.parametrize("amount", TAKEN_AMOUNTS)
async def test_an_amount_up_to_the_ceiling_is_never_refused_as_malformed(target: Target, amount: int) -> None:
    requests = amount_requests(target, amount)
    assert len(requests) >= 5, "money fields: price, refunds, deals"
    faults, _ = await send_all(target, requests)
    assert not faults, "\n".join(faults)
    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        for request in requests:
            response = await send(client, target, request)
            assert response.status_code != 400, f"{request.method} {request.path} {request.label}: {response.text}"


async def test_an_amount_past_the_ceiling_is_refused(target: Target) -> None:
    """A price past 10^10 is malformed (400 naming the field); a refund that large is more than any of the fuzz
    shop's orders holds (refunds may reach 10^13, what a basket of the dearest goods can cost), so it is refused
    as the domain's rule, still with a 4xx."""
    requests = amount_requests(target, MAX_AMOUNT + 1)
    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        for request in requests:
            response = await send(client, target, request)
            where = f"{request.method} {request.path} {request.label}: {response.text}"
            assert fault(request, response) is None and 400 <= response.status_code < 500, where
            field = request.label.split("=")[0]
            if field.endswith("price.amount_minor"):
                assert response.status_code == 400, where
                assert [error["field"] for error in response.json()["errors"]] == [field], where


@pytest.mark.parametrize("amount", TAKEN_AMOUNTS)
async def test_a_product_priced_at_a_64_bit_amount_is_listed_at_that_price(target: Target, amount: int) -> None:
    price = {"amount_minor": amount, "currency": "USD"}
    body = {"title": "Dear thing", "category": "fashion", "price": price, "stock": 1}
    async with httpx.AsyncClient(base_url=target.server.base_url, timeout=60, trust_env=False) as client:
        created = await client.post(
            "/api/shop/products", json=body, headers={"Authorization": f"Bearer {target.tokens['seller']}"}
        )
        assert created.status_code == 201, created.text
        listed = await client.get(f"/api/shop/products/{created.json()['id']}")
    assert listed.json()["price"] == price
