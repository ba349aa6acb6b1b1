"""What shop's JSON handlers share: documented problems and the replay of an idempotent request's answer."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response
from litestar.params import HeaderParameter

from kernel.problems import problem_spec
from shop.orders.idempotency import Replay

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
NOT_FOUND = problem_spec("Not found, or not yours to see")
CONFLICT = problem_spec("The order's state does not allow this")


def replayed(reply: Replay) -> Response[Any]:
    return Response(reply.body, status_code=reply.status_code)
