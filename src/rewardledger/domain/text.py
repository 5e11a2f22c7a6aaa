"""Text the ledger can store: names, labels, ids and metadata strings.

Owns: the one check that keeps text storable on both engines. PostgreSQL cannot store the NUL
character in text, and neither engine can store an unpaired surrogate (it is not Unicode);
SQLite would keep it garbled. Such text is refused where it enters, with a ValidationError.
"""

from __future__ import annotations

from rewardledger.domain.errors import ValidationError


def check_storable(value: str, field: str) -> str:
    if "\x00" in value:
        raise ValidationError(
            f"{field} contains the NUL character (\\u0000), which cannot be stored; remove it.",
            field=field,
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                f"{field} contains an unpaired surrogate (\\ud800-\\udfff), which is not valid "
                "Unicode; send the text as valid UTF-8.",
                field=field,
            ) from None
    return value
