"""The storage of each service, wired by a typed key: ``Port`` and ``Extensions``.

Owns: the link between a service's storage protocol (declared in the service's ``port.py``)
and the object that implements it, made in the composition root (``rewardledger.bootstrap``).
``Extensions.add`` is typed by the port, so mypy checks there that each store satisfies its
protocol; ``Extensions.get`` hands it back with that type, with no cast at the call site.
"""

from __future__ import annotations

from typing import Generic, TypeVar, cast

T = TypeVar("T")


class Port(Generic[T]):
    """The key of one service's storage: ``BUDGETS: Port[BudgetStore] = Port("budgets")``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


class Extensions:
    """The services' stores of one ledger, one per port."""

    def __init__(self) -> None:
        self._stores: dict[str, object] = {}

    def add(self, port: Port[T], store: T) -> Extensions:
        """Wire ``store`` to ``port`` (once each); returns self so wiring reads as one chain."""
        if port.name in self._stores:
            raise ValueError(f"The storage of {port.name!r} is wired already.")
        self._stores[port.name] = store
        return self

    def get(self, port: Port[T]) -> T:
        found = self._stores.get(port.name)
        if found is None:
            known = ", ".join(sorted(self._stores)) or "none"
            raise LookupError(
                f"No storage is wired for {port.name!r} (wired: {known}); "
                "open the ledger through rewardledger.bootstrap.open_ledger."
            )
        # add() accepted it as a T for this very port: the one place the type is restored.
        return cast(T, found)
