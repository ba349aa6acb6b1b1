import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.money import CurrencyMismatch, Money, allocate

amounts = st.integers(min_value=-(10**12), max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6).filter(lambda w: sum(w) > 0)


@given(total=amounts, weights=weights)
def test_allocate_adds_up_exactly(total: int, weights: list[int]) -> None:
    parts = allocate(Money(total, "USD"), weights)
    assert sum(p.amount_minor for p in parts) == total
    assert all(p.currency == "USD" for p in parts)


@given(total=st.integers(min_value=0, max_value=10**12), weights=weights)
def test_allocate_parts_are_within_one_minor_unit_of_the_exact_share(total: int, weights: list[int]) -> None:
    parts = allocate(Money(total, "USD"), weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(part.amount_minor - exact) < 1
        assert part.amount_minor >= 0
        if weight == 0:
            assert part.amount_minor == 0


@given(total=amounts, weights=weights)
def test_allocate_is_deterministic(total: int, weights: list[int]) -> None:
    assert allocate(Money(total, "EUR"), weights) == allocate(Money(total, "EUR"), weights)


def test_allocate_gives_leftover_cents_to_largest_remainders_first() -> None:
    assert [m.amount_minor for m in allocate(Money(100, "USD"), [1, 1, 1])] == [34, 33, 33]
    assert [m.amount_minor for m in allocate(Money(10, "USD"), [7, 3])] == [7, 3]


def test_money_refuses_mixed_currencies_and_unknown_codes() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(ValueError, match="unknown currency"):
        Money(1, "XXX")


def test_money_formats_by_currency_exponent() -> None:
    assert str(Money(123456, "USD")) == "1,234.56 USD"
    assert str(Money(-5, "EUR")) == "-0.05 EUR"
    assert str(Money(1500, "JPY")) == "1,500 JPY"
