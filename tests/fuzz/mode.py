"""How hard to fuzz: the short slice `make test` runs, or the full run of `make fuzz` (LIVECOMMERCE_FUZZ=full).

One seed drives every part of a session, so FUZZ_SEED=<the printed seed> replays a run. The slice always uses the
same seed; a full run picks a fresh one unless given.
"""

from __future__ import annotations

import os
import secrets

FULL = os.environ.get("LIVECOMMERCE_FUZZ", "").lower() == "full"
SLICE_SEED = 20261121
SEED = int(os.environ.get("FUZZ_SEED") or (secrets.randbelow(2**31) if FULL else SLICE_SEED))


def seconds(name: str, default: float) -> float:
    """A time budget of the full run, overridable from the environment (``FUZZ_SCHEMATHESIS_SECONDS=120``)."""
    return float(os.environ.get(name, default))
