"""The soak's gates, computed from its records after the run; each prints as ``name: measured vs limit``.

A fault's window runs from the moment it is injected to its recovery plus ``RECOVERY_GRACE_S``: a 503 (with Retry-After)
answered inside it is expected, and so is any failure of a request in flight during it (one sent into a
blackhole may time out after the window closed); any other failure counts against the run.
The recovery moment is when the fault is undone: PostgreSQL or Redis accepts connections again, the proxy forwards
again, uvicorn has started the replacement worker.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from soak_traffic import Records

RECOVERY_GRACE_S = 5.0
BACK_WITHIN_S = 3.0
FANOUT_BACK_WITHIN_S = 2.0
RSS_GROWTH_LIMIT_MIB = 10.0
SAMPLES_AVERAGED = 3  # the median of this many RSS samples at each end, so one sample's noise is no leak


@dataclass
class Fault:
    name: str
    started: float
    recovered: float

    @property
    def window_end(self) -> float:
        return self.recovered + RECOVERY_GRACE_S

    def covers(self, moment: float) -> bool:
        return self.started <= moment <= self.window_end

    def overlaps(self, sent: float, done: float) -> bool:
        """The request was in flight during the window: sent before it closed, answered (or not) after it opened."""
        return sent <= self.window_end and done >= self.started


@dataclass
class Gate:
    name: str
    measured: str
    limit: str
    passed: bool
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.measured} vs {self.limit}"


@dataclass
class Reconciliation:
    charges: int = 0
    voided: int = 0
    with_one_order: int = 0
    unbacked_charges: list[str] = field(default_factory=list)  # charged, not voided, no order
    multi_order_charges: list[str] = field(default_factory=list)
    voided_with_orders: list[str] = field(default_factory=list)
    orders_without_charge: list[str] = field(default_factory=list)
    keys_charged_twice: list[str] = field(default_factory=list)
    open_intents: int = 0
    trial_balance_minor: int | None = None

    @property
    def problems(self) -> int:
        bad = (self.unbacked_charges, self.multi_order_charges, self.voided_with_orders, self.orders_without_charge)
        return sum(map(len, bad)) + len(self.keys_charged_twice) + self.open_intents


def provider_charges(record: Path) -> list[tuple[str, str, bool]]:
    """(charge_id, reference, voided) for every charge in the sandbox provider's own record (its statement)."""
    with sqlite3.connect(f"file:{record}?mode=ro", uri=True, timeout=15) as db:
        rows = db.execute("SELECT charge_id, reference, voided FROM sandbox_charge").fetchall()
    return [(charge_id, reference, bool(voided)) for charge_id, reference, voided in rows]


def reconcile(
    charges: list[tuple[str, str, bool]], order_charge_ids: list[str], intent_keys: dict[str, str], open_intents: int
) -> Reconciliation:
    """Every provider charge has exactly one order or is voided; no checkout key holds two live charges."""
    orders_per_charge: dict[str, int] = {}
    for charge_id in order_charge_ids:
        orders_per_charge[charge_id] = orders_per_charge.get(charge_id, 0) + 1
    found = Reconciliation(charges=len(charges), open_intents=open_intents)
    live_per_key: dict[str, int] = {}
    for charge_id, reference, voided in charges:
        orders = orders_per_charge.get(charge_id, 0)
        found.voided += voided
        if voided and orders:
            found.voided_with_orders.append(charge_id)
        elif not voided and orders == 0:
            found.unbacked_charges.append(charge_id)
        elif not voided and orders > 1:
            found.multi_order_charges.append(charge_id)
        elif not voided:
            found.with_one_order += 1
        if not voided:  # the reference is "<intent id>.<attempt>": one intent per Idempotency-Key
            key = intent_keys.get(reference.split(".")[0], reference)
            live_per_key[key] = live_per_key.get(key, 0) + 1
    known = {charge_id for charge_id, _, _ in charges}
    found.orders_without_charge = sorted(set(order_charge_ids) - known)
    found.keys_charged_twice = sorted(k for k, n in live_per_key.items() if n > 1)
    return found


def failure_gates(records: Records, faults: list[Fault]) -> list[Gate]:
    inside = [e for e in records.exchanges if any(f.covers(e.done) for f in faults)]
    server_errors = [e for e in records.exchanges if e.status is not None and e.status >= 500 and e.status != 503]
    outside_503 = [e for e in records.exchanges if e.status == 503 and e not in inside]
    bare_503 = [e for e in records.exchanges if e.status == 503 and not e.retry_after]
    failed_outside = [
        e
        for e in records.exchanges
        if (e.status is None or e.status >= 400) and not any(f.overlaps(e.sent, e.done) for f in faults)
    ]
    return [
        Gate("no 500 (any 5xx but 503)", f"{len(server_errors)}", "0", not server_errors, _examples(server_errors)),
        Gate(
            "503 only inside fault windows, with Retry-After",
            f"{len(outside_503)} outside, {len(bare_503)} without Retry-After",
            "0, 0",
            not outside_503 and not bare_503,
            _examples(outside_503 + bare_503),
        ),
        Gate(
            "failed requests outside fault windows (4xx, 5xx, no answer)",
            f"{len(failed_outside)}",
            "0",
            not failed_outside,
            _examples(failed_outside),
        ),
    ]


def _examples(exchanges: list, limit: int = 5) -> list[str]:  # type: ignore[type-arg]
    return [f"{e.kind} at {e.done:.1f} s: {e.status} {e.detail}" for e in exchanges[:limit]]


def back_gates(records: Records, faults: list[Fault], viewers: int) -> list[Gate]:
    """Per fault: the first 2xx of each kind sent after recovery, and the first chat message every viewer got."""
    gates = []
    kinds = sorted({e.kind for e in records.exchanges})
    for fault in faults:
        worst, notes = 0.0, []
        for kind in kinds:
            firsts = [
                e.done
                for e in records.exchanges
                if e.kind == kind and e.sent >= fault.recovered and e.status and e.status < 300
            ]
            back = min(firsts, default=math.inf) - fault.recovered
            notes.append(f"{kind} {back:.2f} s")
            worst = max(worst, back)
        gates.append(
            Gate(
                f"2xx back after {fault.name}",
                f"{worst:.2f} s ({', '.join(notes)})",
                f"{BACK_WITHIN_S:.0f} s",
                worst <= BACK_WITHIN_S,
            )
        )
        reached_all = [
            max(got[seq] for got in records.chat_received)
            for seq, sent in records.chat_sent.items()
            if sent >= fault.recovered and all(seq in got for got in records.chat_received)
        ]
        fanout = min(reached_all, default=math.inf) - fault.recovered
        gates.append(
            Gate(
                f"room fan-out back after {fault.name} (a chat message reaching all {viewers} viewers)",
                f"{fanout:.2f} s",
                f"{FANOUT_BACK_WITHIN_S:.0f} s",
                fanout <= FANOUT_BACK_WITHIN_S,
            )
        )
    return gates


def rss_gate(samples: list[tuple[float, int, int]], warm_up_end: float, warm_up_s: float, min_span_s: float) -> Gate:
    """RSS growth of each worker from the end of its warm-up to the end of the run (``samples``: t, pid, KiB).

    A worker started during the run (the one replacing the killed worker) warms up from its own first sample, and
    counts only if it was then sampled over at least ``min_span_s``.
    """
    by_pid: dict[int, list[tuple[float, int]]] = {}
    for moment, pid, kib in samples:
        by_pid.setdefault(pid, []).append((moment, kib))
    growths, notes = [], []
    for pid, series in by_pid.items():
        warm = max(warm_up_end, series[0][0] + warm_up_s)
        after = [(t, kib) for t, kib in series if t >= warm]
        if len(after) < 2 * SAMPLES_AVERAGED or after[-1][0] - after[0][0] < min_span_s:
            notes.append(f"worker {pid}: sampled {len(after)} times after warm-up, too short to judge")
            continue
        first = statistics.median(kib for _, kib in after[:SAMPLES_AVERAGED])
        last = statistics.median(kib for _, kib in after[-SAMPLES_AVERAGED:])
        growth = (last - first) / 1024
        growths.append(growth)
        notes.append(
            f"worker {pid}: {first / 1024:.1f} -> {last / 1024:.1f} MiB over {after[-1][0] - after[0][0]:.0f} s"
        )
    worst = max(growths, default=math.nan)
    passed = bool(growths) and worst < RSS_GROWTH_LIMIT_MIB
    return Gate(
        "worker RSS growth after warm-up (worst worker)",
        f"{worst:.1f} MiB",
        f"< {RSS_GROWTH_LIMIT_MIB:.0f} MiB",
        passed,
        notes,
    )


def reconciliation_gate(found: Reconciliation) -> Gate:
    measured = (
        f"{found.charges} charges: {found.with_one_order} with one order, {found.voided} voided; "
        f"{len(found.unbacked_charges)} charged without order, {len(found.multi_order_charges)} with several orders, "
        f"{len(found.voided_with_orders)} voided with an order, {len(found.orders_without_charge)} orders without "
        f"charge, {len(found.keys_charged_twice)} keys charged twice, {found.open_intents} intents still open; "
        f"trial balance {found.trial_balance_minor}"
    )
    passed = found.problems == 0 and found.trial_balance_minor == 0
    notes = [*found.unbacked_charges[:3], *found.multi_order_charges[:3], *found.keys_charged_twice[:3]]
    return Gate(
        "reconciliation", measured, "every charge one order or voided, 0 problems, trial balance 0", passed, notes
    )


def report(
    records: Records,
    injected: list[Fault],
    samples: list[tuple[float, int, int]],
    t0: float,
    found: Reconciliation,
    seconds: float,
) -> list[Gate]:
    """Print the run's figures and every gate, with times from the start of traffic; return the gates."""
    for e in records.exchanges:  # times from the start of traffic, as the timeline printed them
        e.sent, e.done = e.sent - t0, e.done - t0
    faults = [Fault(f.name, f.started - t0, f.recovered - t0) for f in injected]
    records.chat_sent = {seq: t - t0 for seq, t in records.chat_sent.items()}
    records.chat_received = [{seq: t - t0 for seq, t in got.items()} for got in records.chat_received]
    rss = [(t - t0, pid, kib) for t, pid, kib in samples]
    print("\nFault windows (injected -> recovered, + grace):")
    for f in faults:
        print(f"  {f.name}: {f.started:.1f} -> {f.recovered:.1f} s (window to {f.window_end:.1f} s)")
    statuses: dict[str, dict[str, int]] = {}
    for e in records.exchanges:
        by = statuses.setdefault(e.kind, {})
        by[str(e.status or e.detail)] = by.get(str(e.status or e.detail), 0) + 1
    print("\nAnswers by kind: " + "; ".join(f"{k} {dict(sorted(v.items()))}" for k, v in sorted(statuses.items())))
    done = sum(p.final_status in (200, 201) for p in records.purchases)
    print(f"Purchases: {done} of {len(records.purchases)} paid; attempts {sum(p.attempts for p in records.purchases)}")
    delivered = sum(len(got) for got in records.chat_received)
    expected = len(records.chat_sent) * len(records.chat_received)
    print(
        f"Chat: {len(records.chat_sent)} sent, {delivered / max(expected, 1):.1%} delivered to viewers; "
        f"error frames {dict(records.chat_errors)}; reconnects {dict(records.reconnects)}; "
        f"skipped {dict(records.skipped)}"
    )
    warm_up_s = min(60.0, seconds * 0.2)
    gates = [
        *failure_gates(records, faults),
        *back_gates(records, faults, len(records.chat_received)),
        rss_gate(rss, warm_up_s, warm_up_s, seconds / 3),
        reconciliation_gate(found),
    ]
    print("\nGates:")
    for gate in gates:
        print(gate.line())
        for note in gate.notes:
            print(f"      {note}")
    return gates
