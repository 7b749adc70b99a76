"""The single-table key grammar: every key string is built here and nowhere else.

Each function names the access pattern it serves. `docs/data-model.md` lists them all with their
key conditions; no request path uses Scan.
"""

from __future__ import annotations

SEQ_WIDTH = 10


def customer_pk(customer_id: str) -> str:
    """Customer profile, open-conversation pointer: GetItem pk=CUST#id."""
    return f"CUST#{customer_id}"


PROFILE_SK = "PROFILE"
OPEN_CONVERSATION_SK = "OPEN"
META_SK = "META"
CONNECTION_SK = "CONN"
DEDUP_SK = "DEDUP"


def conversation_pk(conversation_id: str) -> str:
    """Conversation metadata (sk=META) and its messages (sk=MSG#seq) share one partition."""
    return f"CONV#{conversation_id}"


def message_sk(seq: int) -> str:
    """Messages by seq: Query pk=CONV#id, sk BETWEEN MSG#a AND MSG#b (zero padded, so sorted)."""
    return f"MSG#{seq:0{SEQ_WIDTH}d}"


MESSAGE_SK_PREFIX = "MSG#"


def seq_from_message_sk(sk: str) -> int:
    return int(sk[len(MESSAGE_SK_PREFIX) :])


def customer_conversations_gsi1(customer_id: str, created_ms: int, conversation_id: str) -> tuple[str, str]:
    """A customer's conversations in time order: Query gsi1 gsi1pk=CUST#id, begins_with(gsi1sk, CONV#)."""
    return customer_pk(customer_id), f"CONV#{created_ms:013d}#{conversation_id}"


CONVERSATION_GSI1_PREFIX = "CONV#"


def connection_pk(connection_id: str) -> str:
    """A connection by id: GetItem pk=CONN#id, sk=CONN."""
    return f"CONN#{connection_id}"


def owner_pk(owner_type: str, owner_id: str) -> str:
    """Partition of everything one customer or agent owns on gsi1."""
    return customer_pk(owner_id) if owner_type == "customer" else f"AGENT#{owner_id}"


def owner_connections_gsi1(owner_type: str, owner_id: str, connection_id: str) -> tuple[str, str]:
    """Connections of a customer or an agent: Query gsi1 gsi1pk=CUST#id|AGENT#id, begins_with(gsi1sk, CONN#)."""
    return owner_pk(owner_type, owner_id), f"CONN#{connection_id}"


CONNECTION_GSI_PREFIX = "CONN#"


def conversation_connections_gsi2(conversation_id: str, connection_id: str) -> tuple[str, str]:
    """Connections attached to a conversation (fan-out): Query gsi2 gsi2pk=CONV#id."""
    return conversation_pk(conversation_id), f"CONN#{connection_id}"


def dedup_pk(scope: str, key: str) -> str:
    """Idempotency record of one inbound message: GetItem pk=DEDUP#scope#key, sk=DEDUP.

    `scope` is `client#<customer id>` for WebSocket `client_msg_id`s and the channel name for
    platform message ids, so ids never collide across senders or platforms.
    """
    return f"DEDUP#{scope}#{key}"
