"""Money arithmetic in integer minor units: THE rounding helpers of Portico.

Money is an ``int`` count of the currency's minor units (``1999`` is 19.99 EUR;
JPY has no minor unit). Whenever a computation leaves fractions of a minor unit
— a percentage, a share of a period, a split of a discount — it is rounded here
and nowhere else: half away from zero, as Stripe rounds each invoice line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: Decimal) -> int:
    """``value`` (minor units, possibly fractional) as a whole number, halves away from zero.

    Examples
    --------
    >>> [round_half_up(Decimal(v)) for v in ("2.5", "-2.5", "2.49")]
    [3, -3, 2]
    """
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: float | Decimal) -> int:
    """``percent`` % of ``amount``, rounded half away from zero (a coupon's discount).

    ``percent`` is a rate as Stripe sends it (``percent_off=12.5``); it is read
    through its decimal text so that ``12.5`` is exactly 12.5.

    Examples
    --------
    >>> percent_of(1999, 12.5), percent_of(-1999, 12.5)
    (250, -250)
    """
    return round_half_up(Decimal(amount) * Decimal(str(percent)) / 100)


def prorate(amount: int, *, remaining: int, total: int) -> int:
    """``amount * remaining / total`` rounded half away from zero (a proration's share).

    ``remaining`` and ``total`` are whole seconds (Stripe prorates to the second);
    a period of no length prorates to 0. Computed in integers, so exact for any size.

    Examples
    --------
    >>> prorate(2000, remaining=15, total=30), prorate(-1001, remaining=1, total=2)
    (1000, -501)
    """
    if total <= 0:
        return 0
    sign = -1 if amount < 0 else 1
    return sign * ((2 * abs(amount) * remaining + total) // (2 * total))


def spread(total: int, amounts: Sequence[int]) -> list[int]:
    """Split ``total`` over ``amounts`` in proportion, exactly (a discount over lines).

    Shares are rounded down and the units left over go to the largest
    remainders (the first line on a tie), so they sum to ``total`` and none
    exceeds its amount (given ``0 <= total <= sum(amounts)``).

    Examples
    --------
    >>> spread(100, [1, 1, 1])
    [34, 33, 33]
    """
    whole = sum(amounts)
    if whole == 0:
        return [0] * len(amounts)
    shares = [total * amount // whole for amount in amounts]
    left = total - sum(shares)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(total * amounts[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares
