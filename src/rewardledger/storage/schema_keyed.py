"""Tables of keyed set-up writes (migration 0018_lists_and_keys creates the same).

Owns: ``keyed_writes``, the first answer of each set-up write sent with an ``Idempotency-Key``
(creating an asset, an account, a budget or a webhook endpoint; the points programme's
settings): keyed by (tenant, operation, key), with the digest of the request it answered. The
same key and request again is answered from here; another request under it is refused.
"""

from __future__ import annotations

from sqlalchemy import Column

from rewardledger.domain.limits import DERIVED_ID_LENGTH_MAX
from rewardledger.storage.metadata import instant, key, string, tenant_table
from rewardledger.storage.types import Json

KEYED_OPERATION_LENGTH_MAX = 200
REQUEST_DIGEST_LENGTH = 64

keyed_writes = tenant_table(
    "keyed_writes",
    key("operation", KEYED_OPERATION_LENGTH_MAX),
    key("idempotency_key", DERIVED_ID_LENGTH_MAX),
    string("request_digest", REQUEST_DIGEST_LENGTH),
    Column("response", Json(), nullable=False),
    instant("created_at"),
)
