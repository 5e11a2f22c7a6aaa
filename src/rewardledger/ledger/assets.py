"""The assets of one tenant as a ``Ledger`` keeps them: cached, and read again on a miss.

Owns: the one cache of configuration the engine keeps between calls. Protects: a process never
misses an asset that another process (another server worker, the CLI beside a server)
created since this one last read them. An asset never changes once created (its scale and
name are fixed; ``create_asset`` with other values is ``already_exists``) and is never
deleted, so a cached asset is never wrong; only a missing one may be stale, and a miss reads
the tenant's assets again before answering. Nothing else of a tenant's configuration (points
set-up, reasons, budgets, cycle settings, programmes) is cached: services read it from the
database on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar, overload

from rewardledger.domain.errors import NotFound
from rewardledger.domain.tenants import Asset

T = TypeVar("T")

MISSING_ASSET_HINT = "Create the asset first (POST /assets or create_asset)."


class TenantAssets(Mapping[str, Asset]):
    """One tenant's assets by code. A code not in the cache is looked up again (one read of
    the tenant's assets) before it is answered as missing: ``get`` then returns the default,
    ``in`` is false and ``[code]`` raises ``not_found``, never a bare ``KeyError``.

    Safe to share between threads: a re-read replaces the whole dict in one assignment.
    Iterating (and ``len``) shows the assets known so far, without a read.
    """

    def __init__(self, load: Callable[[], dict[str, Asset]]) -> None:
        self._load = load
        self._known: dict[str, Asset] = load()

    @overload
    def get(self, code: str, /) -> Asset | None: ...
    @overload
    def get(self, code: str, default: Asset, /) -> Asset: ...
    @overload
    def get(self, code: str, default: T, /) -> Asset | T: ...

    def get(self, code: str, default: object = None, /) -> object:
        asset = self._known.get(code)
        if asset is None:
            self._known = known = self._load()
            asset = known.get(code)
        return default if asset is None else asset

    def __getitem__(self, code: str) -> Asset:
        asset = self.get(code, None)
        if asset is None:
            raise NotFound("asset", code, MISSING_ASSET_HINT)
        return asset

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def scales_of(assets: Mapping[str, Asset]) -> Mapping[str, int]:
    """Each asset's scale by code, read through ``assets`` (so a miss is read again too)."""
    return _Scales(assets)


class _Scales(Mapping[str, int]):
    def __init__(self, assets: Mapping[str, Asset]) -> None:
        self._assets = assets

    def __getitem__(self, code: str) -> int:
        return self._assets[code].scale

    def __iter__(self) -> Iterator[str]:
        return iter(self._assets)

    def __len__(self) -> int:
        return len(self._assets)
