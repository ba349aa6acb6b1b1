"""Properties of shop.money.commissions: the held amount is shared out exactly, whatever the lines and rates, and
the per-line creator commissions the reports count add up to what the split pays each creator."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.money import Money
from shop.money.commissions import BPS, LineTerms, Split, creator_commissions, split

CREATORS = [UUID(int=n) for n in range(1, 4)]
currencies = st.sampled_from(["USD", "JPY"])


@st.composite
def line_terms(draw: st.DrawFn, attributed: bool | None = None) -> LineTerms:
    """A sold line as checkout freezes it: category commission (0-20%) and, when attributed, an affiliate rate."""
    commission = draw(st.integers(0, 2000))
    has_creator = draw(st.booleans()) if attributed is None else attributed
    creator = draw(st.sampled_from(CREATORS)) if has_creator else None
    # The API caps the affiliate rate at 80%; a line without a creator may still carry one (the product's rate).
    affiliate = draw(st.integers(0, min(8000, BPS - commission)))
    amount = draw(st.integers(1, 10**9))
    return LineTerms(amount, commission, creator, affiliate)


lines_strategy = st.lists(line_terms(), min_size=1, max_size=6)


@st.composite
def held_and_lines(draw: st.DrawFn) -> tuple[Money, list[LineTerms]]:
    """Lines and what escrow still holds for them: the full total, or less after partial refunds, or nothing."""
    lines = draw(lines_strategy)
    total = sum(line.amount_minor for line in lines)
    held = draw(st.one_of(st.just(total), st.just(0), st.integers(0, total)))
    return Money(held, draw(currencies)), lines


def amounts(shares: Split) -> list[int]:
    return [
        shares.seller.amount_minor,
        shares.platform.amount_minor,
        *(m.amount_minor for m in shares.creators.values()),
    ]


@given(held_and_lines())
def test_shares_add_up_exactly_to_the_held_amount(case: tuple[Money, list[LineTerms]]) -> None:
    held, lines = case
    shares = split(held, lines)
    assert shares.total() == held
    assert sum(amounts(shares)) == held.amount_minor
    assert {m.currency for m in [shares.seller, shares.platform, *shares.creators.values()]} == {held.currency}


@given(held_and_lines())
def test_no_share_is_negative(case: tuple[Money, list[LineTerms]]) -> None:
    held, lines = case
    assert all(amount >= 0 for amount in amounts(split(held, lines)))


@given(held_and_lines())
def test_only_creators_of_attributed_lines_are_paid(case: tuple[Money, list[LineTerms]]) -> None:
    held, lines = case
    shares = split(held, lines)
    assert set(shares.creators) <= {line.creator_id for line in lines if line.creator_id is not None}
    assert all(amount.amount_minor > 0 for amount in shares.creators.values())


@given(st.lists(line_terms(attributed=False), min_size=1, max_size=6), currencies)
def test_lines_without_creator_pay_no_creator_even_with_an_affiliate_rate(
    lines: list[LineTerms], currency: str
) -> None:
    total = Money(sum(line.amount_minor for line in lines), currency)
    shares = split(total, lines)
    assert shares.creators == {}
    assert shares.seller + shares.platform == total


@given(line_terms(), currencies)
def test_a_fully_held_line_pays_each_party_its_exact_rate_to_within_one_minor_unit(
    line: LineTerms, currency: str
) -> None:
    shares = split(Money(line.amount_minor, currency), [line])
    exact_platform = Fraction(line.amount_minor * line.commission_bps, BPS)
    assert abs(shares.platform.amount_minor - exact_platform) < 1
    affiliate = line.affiliate_rate_bps if line.creator_id else 0
    exact_creator = Fraction(line.amount_minor * affiliate, BPS)
    creator_share = shares.creators.get(line.creator_id, Money.zero(currency)) if line.creator_id else None
    assert creator_share is None or abs(creator_share.amount_minor - exact_creator) < 1
    exact_seller = line.amount_minor - exact_platform - exact_creator
    assert abs(shares.seller.amount_minor - exact_seller) < 1


@given(lines_strategy, currencies)
def test_fully_held_lines_pay_the_platform_its_rate_to_within_one_minor_unit_per_line(
    lines: list[LineTerms], currency: str
) -> None:
    total = sum(line.amount_minor for line in lines)
    shares = split(Money(total, currency), lines)
    exact = sum(Fraction(line.amount_minor * line.commission_bps, BPS) for line in lines)
    assert abs(shares.platform.amount_minor - exact) < len(lines)
    # Held in full, each line keeps exactly its own amount, so the per-line splits are independent of each other.
    assert shares.platform.amount_minor == sum(
        split(Money(li.amount_minor, currency), [li]).platform.amount_minor for li in lines
    )


@given(held_and_lines())
def test_split_is_deterministic(case: tuple[Money, list[LineTerms]]) -> None:
    held, lines = case
    first = split(held, lines)
    again = split(Money(held.amount_minor, held.currency), [LineTerms(**vars(line)) for line in lines])
    assert again == first
    assert list(again.creators) == list(first.creators)


@given(held_and_lines())
def test_each_lines_creator_commission_adds_up_to_what_the_split_pays_its_creator(
    case: tuple[Money, list[LineTerms]],
) -> None:
    held, lines = case
    commissions = creator_commissions(held, lines)
    per_creator: dict[UUID, int] = defaultdict(int)
    for line, commission in zip(lines, commissions, strict=True):
        if line.creator_id is None:
            assert commission == Money.zero(held.currency)
        elif commission.amount_minor:
            per_creator[line.creator_id] += commission.amount_minor
    assert per_creator == {creator: m.amount_minor for creator, m in split(held, lines).creators.items()}


def test_rates_above_the_whole_line_are_refused() -> None:
    with pytest.raises(ValueError, match="exceed"):
        split(Money(1000, "USD"), [LineTerms(1000, 2000, CREATORS[0], 8001)])


def test_an_order_without_lines_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        split(Money(0, "USD"), [])
