"""Money: exact amounts as integer minor units of an asset, decimal strings at the edges.

Owns: parsing and formatting of amounts, and the one rounding-free split (largest remainder).
Protects: "no float ever touches money" and "an amount with more digits than its asset's
scale is refused, never rounded".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import AMOUNT_MINOR_MAX, AMOUNT_TEXT_LENGTH_MAX, ASSET_SCALE_MAX

# ASCII digits only: \d would also take other scripts' digits ("١٢" is 12 to \d).
_DECIMAL = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


@dataclass(frozen=True, slots=True)
class Amount:
    """An exact quantity of an asset, held as integer minor units and the asset's scale.

    ``Amount.parse("12.50", scale=2)`` is 1250 minor units; ``str()`` gives "12.50" back.
    """

    minor: int
    scale: int

    def __post_init__(self) -> None:
        assert isinstance(self.minor, int), self.minor
        assert not isinstance(self.minor, bool), self.minor
        assert 0 <= self.scale <= ASSET_SCALE_MAX, self.scale

    @classmethod
    def parse(cls, text: str, scale: int, *, field: str = "amount") -> Amount:
        """Parse a decimal string such as "12.50"; refuse floats, exponents and extra digits."""
        if not isinstance(text, str):
            raise ValidationError(
                f'{field} must be a decimal string such as "12.50", not {type(text).__name__}.',
                field=field,
            )
        match = _DECIMAL.fullmatch(text) if len(text) <= AMOUNT_TEXT_LENGTH_MAX else None
        if match is None:
            shown = (
                text
                if len(text) <= AMOUNT_TEXT_LENGTH_MAX
                else text[:AMOUNT_TEXT_LENGTH_MAX] + "..."
            )
            raise ValidationError(
                f'{field} {shown!r} is not a decimal number; write it like "12.50" '
                "(ASCII digits, an optional point, no exponent or thousands separator).",
                field=field,
            )
        fraction = match["fraction"] or ""
        if len(fraction) > scale:
            raise ValidationError(
                f"{field} {text!r} has {len(fraction)} decimal places but this asset has {scale}; "
                "amounts are never rounded, so send at most that many.",
                field=field,
            )
        if len(match["whole"]) > 18:
            raise ValidationError(f"{field} {text!r} is too large.", field=field)
        minor = int(match["whole"]) * 10**scale + int(fraction.ljust(scale, "0") or "0")
        if match["sign"]:
            minor = -minor
        return cls(minor, scale)

    def __str__(self) -> str:
        return format_minor(self.minor, self.scale)

    def __add__(self, other: Amount) -> Amount:
        assert self.scale == other.scale, (self, other)
        return Amount(self.minor + other.minor, self.scale)

    def __sub__(self, other: Amount) -> Amount:
        assert self.scale == other.scale, (self, other)
        return Amount(self.minor - other.minor, self.scale)

    def __neg__(self) -> Amount:
        return Amount(-self.minor, self.scale)


def format_minor(minor: int, scale: int) -> str:
    """Format integer minor units as a decimal string with exactly ``scale`` places."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor))
    if scale == 0:
        return sign + digits
    digits = digits.rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def parse_positive(text: str, scale: int, *, field: str = "amount") -> int:
    """Parse an amount that must be above zero and within the ledger's limit; return minor units."""
    minor = Amount.parse(text, scale, field=field).minor
    if minor <= 0:
        raise ValidationError(f"{field} must be greater than zero, got {text!r}.", field=field)
    if minor > AMOUNT_MINOR_MAX:
        raise ValidationError(
            f"{field} {text!r} is above the largest amount a transfer may carry "
            f"({format_minor(AMOUNT_MINOR_MAX, scale)}); split it into several transfers.",
            field=field,
        )
    return minor


def allocate(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_minor`` in proportion to ``weights`` so that the parts sum back exactly.

    Largest remainder: every part gets its floor, then the units left over go to the parts
    with the largest remainders (earlier parts first on ties).
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValidationError("allocate needs at least one weight, none negative, not all zero.")
    weight_sum = sum(weights)
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    left_over = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left_over]:
        floors[i] += 1
    return [sign * part for part in floors]
