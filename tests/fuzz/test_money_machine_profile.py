"""The money state machine (tests/shop/money/test_money_machine.py) at length: the ``fuzz`` hypothesis profile runs
it for 100,000 steps on PostgreSQL in `make fuzz`, without shrinking, seeded from FUZZ_SEED.

The steps run in batches of BATCH_EXAMPLES examples, each batch seeded from the run's seed and its number, so that a
time budget (FUZZ_MONEY_SECONDS; 0 lifts it) can end the run between batches and a seed replays the same batches.
The short slice runs one batch of one short example: the machine itself runs a few hundred steps in `make test`.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.fuzz import mode
from tests.fuzz.figures import record
from tests.shop.money.test_money_machine import Fixtures, MoneyMachine, machine_fixtures  # noqa: F401 - a fixture

pytestmark = pytest.mark.fuzz

FUZZ_STEPS = 100_000
STEPS_PER_EXAMPLE = 200  # long examples: each one pays for a fresh app and an emptied shop once
BATCH_EXAMPLES = 5
API_CHECK_EVERY = 20  # divides STEPS_PER_EXAMPLE, so each example's last state is read through the API too
settings.register_profile(
    "fuzz",
    max_examples=FUZZ_STEPS // STEPS_PER_EXAMPLE,
    stateful_step_count=STEPS_PER_EXAMPLE,
    deadline=None,
    database=None,  # nothing replayed from earlier runs: the seed alone decides
    phases=[Phase.explicit, Phase.generate],  # no shrinking: with an app per example it can take hours
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_PROFILE = settings.get_profile("fuzz")
SLICE_SETTINGS = settings(FUZZ_PROFILE, max_examples=1, stateful_step_count=25)


class CountedMoneyMachine(MoneyMachine):
    """The machine counting its steps (hypothesis checks the invariants once at the start and once after every
    step), reading the API's views every API_CHECK_EVERY steps: the stored rows are still checked after each."""

    api_check_every = API_CHECK_EVERY
    checks = 0

    def check_invariants(self, *args: Any, **kwargs: Any) -> None:
        CountedMoneyMachine.checks += 1
        super().check_invariants(*args, **kwargs)


def test_money_adds_up_over_the_fuzz_profile(machine_fixtures: Fixtures) -> None:  # noqa: F811
    profile = FUZZ_PROFILE if mode.FULL else SLICE_SETTINGS
    budget = mode.seconds("FUZZ_MONEY_SECONDS", 180) if mode.FULL else 0
    batch_settings = settings(profile, max_examples=min(BATCH_EXAMPLES, profile.max_examples))
    batches = -(-profile.max_examples // batch_settings.max_examples)
    started, examples = time.monotonic(), 0
    for batch in range(batches):
        if budget and time.monotonic() - started > budget:
            break
        machine = seed(mode.SEED + batch)(lambda: CountedMoneyMachine(machine_fixtures))
        run_state_machine_as_test(machine, settings=batch_settings)
        examples += batch_settings.max_examples
    elapsed = time.monotonic() - started
    steps = CountedMoneyMachine.checks - examples  # less the check at each example's start
    record(
        "money machine",
        f"{steps:,} steps in {examples} examples of {profile.stateful_step_count} "
        f"({steps / elapsed * 60:,.0f} steps/min, {elapsed:.0f} s"
        + (
            f", stopped by FUZZ_MONEY_SECONDS={budget:.0f} before {FUZZ_STEPS:,})"
            if steps < FUZZ_STEPS and mode.FULL
            else ")"
        ),
    )
    assert steps >= examples * profile.stateful_step_count * 0.9, "hypothesis ran the examples to their length"
