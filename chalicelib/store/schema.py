"""The table's attribute and index names.

`infra/resources.yaml` declares the same names; `tests/test_infra.py` checks that the two agree,
so the key schema has one meaning everywhere.
"""

from __future__ import annotations

PK = "pk"
SK = "sk"
GSI1 = "gsi1"
GSI1_PK = "gsi1pk"
GSI1_SK = "gsi1sk"
GSI2 = "gsi2"
GSI2_PK = "gsi2pk"
GSI2_SK = "gsi2sk"
TTL_ATTRIBUTE = "expires_at"
