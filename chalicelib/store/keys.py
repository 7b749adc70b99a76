"""The single-table key grammar: every key string is built here and nowhere else.

Each function names the access pattern it serves. `docs/data-model.md` lists them all with their
key conditions; no request path uses Scan.

Ids are escaped before they are joined (`_id`): `%` becomes `%25` and the separator `#` becomes
`%23`, so customer `X` sending `k#m1` and customer `X#k` sending `m1` get different keys (issue 13,
class 6). An id with neither character keeps exactly the key it had before escaping existed.
"""

from __future__ import annotations

import zlib

SEQ_WIDTH = 10
SEPARATOR = "#"


# -- write sharding of keys every customer's traffic would otherwise share (issue 13) -------------
# A partition takes at most 1,000 WCU/s and 3,000 RCU/s; `bench/capacity.py` shows each shared key's
# peak at 100,000 concurrent customers, and these counts keep every one under half of that.
ONLINE_AGENT_SHARDS = 8
AGENT_LIST_SHARDS = 8
WAITING_QUEUE_SHARDS = 8
IDLE_SHARDS = 8  # the idle index: about three writes per conversation (first activity, each 5 minutes, close)
IDLE_PK_PREFIX = "IDLE#SHARD#"
MISS_SHARDS = 4  # the misses of one day (a fallback, handoff or unpicked suggestion on ~1 message in 4)


def shard_of(value: str, shards: int) -> int:
    """A stable shard number for `value` (the same in every container and process: CRC-32, not hash())."""
    return zlib.crc32(value.encode()) % shards


def escape(value: str) -> str:
    """One id made safe to join with `#`: `%` -> `%25`, `#` -> `%23` (ids without them are unchanged)."""
    if "%" not in value and SEPARATOR not in value:
        return value
    return value.replace("%", "%25").replace(SEPARATOR, "%23")


_id = escape


def customer_pk(customer_id: str) -> str:
    """Customer profile, open-conversation pointer: GetItem pk=CUST#id."""
    return f"CUST#{_id(customer_id)}"


PROFILE_SK = "PROFILE"
OPEN_CONVERSATION_SK = "OPEN"
META_SK = "META"
# The conversation's message counter (`last_seq`, `last_message_ms`) and a copy of its open/closed
# status, on an item of its own with no index keys: a message updates it and not META, so a message
# writes no index entry (META is in gsi1 CUST#id and gsi2 IDLE#bucket, both projecting ALL; issue 13).
SEQ_SK = "SEQ"
CONNECTION_SK = "CONN"
DEDUP_SK = "DEDUP"


def conversation_pk(conversation_id: str) -> str:
    """Conversation metadata (sk=META) and its messages (sk=MSG#seq) share one partition."""
    return f"CONV#{_id(conversation_id)}"


def message_sk(seq: int) -> str:
    """Messages by seq: Query pk=CONV#id, sk BETWEEN MSG#a AND MSG#b (zero padded, so sorted)."""
    return f"MSG#{seq:0{SEQ_WIDTH}d}"


MESSAGE_SK_PREFIX = "MSG#"


def seq_from_message_sk(sk: str) -> int:
    return int(sk[len(MESSAGE_SK_PREFIX) :])


def customer_conversations_gsi1(customer_id: str, created_ms: int, conversation_id: str) -> tuple[str, str]:
    """A customer's conversations in time order: Query gsi1 gsi1pk=CUST#id, begins_with(gsi1sk, CONV#)."""
    return customer_pk(customer_id), f"CONV#{created_ms:013d}#{_id(conversation_id)}"


CONVERSATION_GSI1_PREFIX = "CONV#"


def connection_pk(connection_id: str) -> str:
    """A connection by id: GetItem pk=CONN#id, sk=CONN."""
    return f"CONN#{_id(connection_id)}"


def owner_pk(owner_type: str, owner_id: str) -> str:
    """Partition of everything one customer or agent owns on gsi1."""
    return customer_pk(owner_id) if owner_type == "customer" else f"AGENT#{_id(owner_id)}"


def owner_connections_gsi1(owner_type: str, owner_id: str, connection_id: str) -> tuple[str, str]:
    """Connections of a customer or an agent: Query gsi1 gsi1pk=CUST#id|AGENT#id, begins_with(gsi1sk, CONN#)."""
    return owner_pk(owner_type, owner_id), f"CONN#{_id(connection_id)}"


CONNECTION_GSI_PREFIX = "CONN#"


def conversation_connections_gsi2(conversation_id: str, connection_id: str) -> tuple[str, str]:
    """Connections attached to a conversation (fan-out): Query gsi2 gsi2pk=CONV#id."""
    return conversation_pk(conversation_id), f"CONN#{_id(connection_id)}"


def dedup_scope(kind: str, owner_id: str) -> str:
    """The dedup scope of one sender's own message ids: `client#<customer id>`, `agent#<agent id>`."""
    return f"{_id(kind)}#{_id(owner_id)}"


def dedup_pk(scope: str, key: str | tuple[str, ...]) -> str:
    """Idempotency record of one inbound message: GetItem pk=DEDUP#scope#key, sk=DEDUP.

    `scope` is `dedup_scope("client", customer_id)` for WebSocket `client_msg_id`s, the channel
    name for platform message ids, or a producer's name (`bot`, `routing`, `csat`), so ids never
    collide across senders or platforms. `key` is one id, or a tuple of ids joined with `#`; each
    is escaped here, so a `#` inside a sender's id cannot reach into another sender's keys.
    """
    parts = (key,) if isinstance(key, str) else key
    return f"DEDUP#{scope}#" + SEPARATOR.join(_id(part) for part in parts)


# -- human agents: routing, workspace, tickets, CSAT (routing domain) -----------------------------

AGENT_PROFILE_SK = "PROFILE"
AGENTS_GSI1_PK = "AGENTS"
ONLINE_AGENTS_GSI2_PK = "AGENTS#ONLINE"
WORK_SK_PREFIX = "WORK#"
WAITING_QUEUE_PK = "QUEUE#WAITING"
TEAMS_GSI1_PK = "TEAMS"
CONFIG_PK = "CONFIG"
DESK_CONFIG_SK = "DESK"
IDLE_SWEEP_SK = "SWEEP#IDLE"
CSAT_SK = "CSAT"
CSAT_PENDING_SK = "CSAT_PENDING"
TICKET_META_SK = "META"
AUDIT_SK_PREFIX = "AUDIT#"
SLA_WATCH_GSI2_PK = "SLA#WATCH"


def agent_pk(agent_id: str) -> str:
    """Agent profile (sk=PROFILE) and the agent's offers/assignments (sk=WORK#conv): GetItem / Query pk=AGENT#id."""
    return f"AGENT#{_id(agent_id)}"


def agent_list_gsi1(agent_id: str) -> tuple[str, str]:
    """All agents (admin, supervisor load view), sharded by agent: Query gsi1 gsi1pk=AGENTS#nn.

    Every load change of every agent is a write to this index (issue 13): `AGENT_LIST_SHARDS` partitions
    share them; readers query `agent_list_gsi1_pks()`.
    """
    return f"{AGENTS_GSI1_PK}#{shard_of(_id(agent_id), AGENT_LIST_SHARDS):02d}", f"AGENT#{_id(agent_id)}"


def agent_list_gsi1_pks() -> list[str]:
    """Every shard of the agent list, and the unsharded partition of agents saved before it."""
    return [AGENTS_GSI1_PK, *(f"{AGENTS_GSI1_PK}#{n:02d}" for n in range(AGENT_LIST_SHARDS))]


def online_agent_gsi2(agent_id: str) -> tuple[str, str]:
    """Online agents (routing candidates), a sparse index sharded by agent: Query gsi2 gsi2pk=AGENTS#ONLINE#nn.

    Every change of an online agent (its load on each offer, accept and resolve) is a write to this index
    partition; `ONLINE_AGENT_SHARDS` spread them (issue 13). Readers query `online_agents_gsi2_pks()`.
    """
    return f"{ONLINE_AGENTS_GSI2_PK}#{shard_of(_id(agent_id), ONLINE_AGENT_SHARDS):02d}", f"AGENT#{_id(agent_id)}"


def online_agents_gsi2_pks() -> list[str]:
    """Every shard of the online-agents index, and the unsharded partition agents set online before it."""
    return [ONLINE_AGENTS_GSI2_PK, *(f"{ONLINE_AGENTS_GSI2_PK}#{n:02d}" for n in range(ONLINE_AGENT_SHARDS))]


def work_sk(conversation_id: str) -> str:
    """One offer or assignment of an agent: Query pk=AGENT#id AND begins_with(sk, WORK#)."""
    return f"{WORK_SK_PREFIX}{_id(conversation_id)}"


def queue_sk(priority: int, queued_ms: int, conversation_id: str) -> str:
    """Waiting conversations, highest priority then oldest first: Query pk=QUEUE#WAITING (ascending).

    `priority` is 0..9 (9 = most urgent); the sort key stores 9 - priority so ascending order serves it first.
    """
    return f"P{9 - max(0, min(9, priority))}#{queued_ms:013d}#{_id(conversation_id)}"


def waiting_queue_pk(sk: str) -> str:
    """The shard of the waiting queue holding the entry `sk` (picked by its conversation): QUEUE#WAITING#nn.

    Every escalation puts, offers delete and position updates touch the queue: `WAITING_QUEUE_SHARDS`
    partitions share them (issue 13). The head is the merge of every shard's head, a position the sum of
    every shard's count ahead: `waiting_queue_pks()`.
    """
    return f"{WAITING_QUEUE_PK}#{shard_of(sk.rsplit(SEPARATOR, 1)[-1], WAITING_QUEUE_SHARDS):02d}"


def waiting_queue_pks() -> list[str]:
    """Every shard of the waiting queue."""
    return [f"{WAITING_QUEUE_PK}#{n:02d}" for n in range(WAITING_QUEUE_SHARDS)]


def team_pk(team_id: str) -> str:
    """A team and its business hours: GetItem pk=TEAM#id, sk=PROFILE; all teams: Query gsi1 gsi1pk=TEAMS."""
    return f"TEAM#{_id(team_id)}"


def canned_sk(canned_id: str) -> str:
    """Canned responses: Query pk=CONFIG AND begins_with(sk, CANNED#)."""
    return f"CANNED#{_id(canned_id)}"


def sla_policy_sk(priority: str) -> str:
    """SLA policy per ticket priority: GetItem pk=CONFIG, sk=SLA#priority."""
    return f"SLA#{_id(priority)}"


def idle_gsi2(conversation_id: str, last_activity_ms: int) -> tuple[str, str]:
    """Open conversations by last activity (the idle auto-close), sparse, sharded by conversation:
    Query gsi2 gsi2pk=IDLE#SHARD#nn AND gsi2sk <= <cutoff ms>~ on each of `idle_pks()`.

    The entry is on the conversation META, moved at most once per five minutes of activity (a message
    itself writes the counter item, not META) and removed when the conversation closes, so the index holds
    the open conversations only and a sweep reads `IDLE_SHARDS` partitions whatever the look-back.
    """
    return (f"{IDLE_PK_PREFIX}{shard_of(_id(conversation_id), IDLE_SHARDS):02d}",
            f"{last_activity_ms:013d}#{_id(conversation_id)}")


def idle_pks() -> list[str]:
    """Every shard of the idle index."""
    return [f"{IDLE_PK_PREFIX}{n:02d}" for n in range(IDLE_SHARDS)]


def legacy_idle_bucket_pk(bucket: int) -> str:
    """Before issue 13's fix the idle index was one partition per five-minute bucket (IDLE#bucket), swept
    from a cursor: read once, to move the conversations still open there (`Workspace.close_idle`)."""
    return f"IDLE#{bucket}"


def ticket_pk(ticket_id: str) -> str:
    """A ticket (sk=META) and its audit trail (sk=AUDIT#ms#id): GetItem / Query pk=TICKET#id."""
    return f"TICKET#{_id(ticket_id)}"


def tickets_by_status_pk(status: str) -> str:
    """Tickets in one status, oldest first: Query gsi1 gsi1pk=TICKETS#status."""
    return f"TICKETS#{_id(status)}"


def tickets_by_status_gsi1(status: str, created_ms: int, ticket_id: str) -> tuple[str, str]:
    """Tickets in one status, oldest first: Query gsi1 gsi1pk=TICKETS#status."""
    return tickets_by_status_pk(status), f"{created_ms:013d}#{_id(ticket_id)}"


def sla_watch_gsi2(due_ms: int, ticket_id: str) -> tuple[str, str]:
    """Tickets with an SLA deadline or reminder due: Query gsi2 gsi2pk=SLA#WATCH AND gsi2sk <= now."""
    return SLA_WATCH_GSI2_PK, f"{due_ms:013d}#{_id(ticket_id)}"


def agent_ratings_gsi1(agent_id: str, rated_ms: int, conversation_id: str) -> tuple[str, str]:
    """An agent's CSAT ratings, newest first: Query gsi1 gsi1pk=AGENT#id AND begins_with(gsi1sk, CSAT#)."""
    return f"AGENT#{_id(agent_id)}", f"CSAT#{rated_ms:013d}#{_id(conversation_id)}"


# -- bot: knowledge base, trained models, per-conversation bot state -----------------------------

KB_META_SK = "META"
KB_INTENT_SK_PREFIX = "INTENT#"
MODEL_CURRENT_SK = "MODEL#CURRENT"
BOT_STATE_SK = "BOT"


def kb_pk(kb_id: str = "default") -> str:
    """Knowledge-base partition: META (version counter), INTENT#name entries, MODEL#CURRENT pointer.

    The whole KB is read with one Query pk=KB#id (begins_with(sk, INTENT#) for the entries);
    an entry is GetItem pk=KB#id, sk=INTENT#name; the live model is GetItem sk=MODEL#CURRENT.
    """
    return f"KB#{_id(kb_id)}"


def kb_intent_sk(intent: str) -> str:
    """One KB entry (intent / FAQ): GetItem pk=KB#id, sk=INTENT#name."""
    return f"{KB_INTENT_SK_PREFIX}{_id(intent)}"


def effects_progress_key(message_id: str) -> tuple[str, str]:
    """Which effects of a message a failed delivery completed (written only when one fails, TTL one
    day): GetItem pk=EFFECTS#<message id>, sk=EFFECTS, read only on a redelivery."""
    return f"EFFECTS#{message_id}", "EFFECTS"


def survey_answer_key(conversation_id: str, seq: int) -> tuple[str, str]:
    """The survey step a customer message answered (so a redelivery resumes it, never re-asks the bot):
    GetItem pk=CONV#id, sk=SURVEY_ANSWER#<seq>, TTL one day."""
    return conversation_pk(conversation_id), f"SURVEY_ANSWER#{seq:0{SEQ_WIDTH}d}"


def bot_state_key(conversation_id: str) -> tuple[str, str]:
    """The bot's state in one conversation (consecutive misses, handoff): GetItem pk=CONV#id, sk=BOT."""
    return conversation_pk(conversation_id), BOT_STATE_SK


# -- social channels: identities, merges, outbound delivery (channels domain) ------------------

IDENTITY_SK = "IDENTITY"
IDENTITY_GSI1_PREFIX = "IDENT#"
MERGE_SK = "MERGE"
MERGE_GSI1_PREFIX = "MERGE#"
PLATFORM_MESSAGE_SK = "PLATFORMMSG"
OUTBOUND_PART_SK_PREFIX = "PART#"


def identity_pk(channel: str, external_id: str) -> str:
    """A channel identity -> its customer: GetItem pk=IDENTITY#<channel>#<external id>, sk=IDENTITY."""
    return f"IDENTITY#{_id(channel)}#{_id(external_id)}"


def customer_identities_gsi1(customer_id: str, channel: str, external_id: str) -> tuple[str, str]:
    """A customer's channel identities: Query gsi1 gsi1pk=CUST#id, begins_with(gsi1sk, IDENT#)."""
    return customer_pk(customer_id), f"IDENT#{_id(channel)}#{_id(external_id)}"


def merge_pk(audit_id: str) -> str:
    """A merge audit record by id: GetItem pk=MERGE#<audit id>, sk=MERGE."""
    return f"MERGE#{_id(audit_id)}"


def customer_merges_gsi1(target_customer_id: str, created_ms: int, audit_id: str) -> tuple[str, str]:
    """Merges into a customer, oldest first: Query gsi1 gsi1pk=CUST#id, begins_with(gsi1sk, MERGE#)."""
    return customer_pk(target_customer_id), f"MERGE#{created_ms:013d}#{_id(audit_id)}"


def platform_message_pk(channel: str, platform_message_id: str) -> str:
    """Our message behind a platform's message id (delivery/read receipts): GetItem pk=PLATFORMMSG#ch#id."""
    return f"PLATFORMMSG#{_id(channel)}#{_id(platform_message_id)}"


def outbound_part_pk(message_id: str) -> str:
    """Send markers of one outbound message, one item per part: GetItem pk=OUTBOX#<message id>, sk=PART#n."""
    return f"OUTBOX#{_id(message_id)}"


def outbound_part_sk(part: int) -> str:
    return f"{OUTBOUND_PART_SK_PREFIX}{part:03d}"


# -- analytics: live dashboard counters (analytics domain) ---------------------------------------

LIVE_STATS_SK = "LIVE"


def live_stats_pk(day: str) -> str:
    """The unsharded per-day counters item written before issue 13 (still summed on read, never written)."""
    return f"STATS#{_id(day)}"


# Every invocation adds to the day's counters: one item would take all of them on one partition
# (1,000 WCU/s), so writes go to one of this many shards at random and a read sums them (issue 13).
LIVE_STATS_SHARDS = 20


def live_stats_shard_pk(day: str, shard: int) -> str:
    """One write shard of a day's counters: UpdateItem ADD pk=STATS#yyyy-mm-dd#nn; read: BatchGet all nn."""
    return f"STATS#{_id(day)}#{shard:02d}"


# -- webhook replay protection (issue 13) ----------------------------------------------------------

NONCE_SK = "NONCE"


def webhook_nonce_pk(channel: str, token: str) -> str:
    """A signed request's replay token (WeChat `timestamp#nonce`), kept for its window: PutItem if absent."""
    return f"NONCE#{_id(channel)}#{_id(token)}"


# -- customer access audit (issue 13) --------------------------------------------------------------

READER_ACCESS_GSI1_PREFIX = "ACCESS#"


def customer_access_pk(customer_id: str) -> str:
    """Reads of one customer, newest first: Query pk=ACCESS#CUST#id (descending)."""
    return f"ACCESS#CUST#{_id(customer_id)}"


def identity_access_pk(channel: str, external_id: str) -> str:
    """Look-ups of a channel identity that matched no customer: Query pk=ACCESS#IDENTITY#channel#id."""
    return f"ACCESS#IDENTITY#{_id(channel)}#{_id(external_id)}"


def access_sk(at_ms: int, audit_id: str) -> str:
    return f"{at_ms:013d}#{_id(audit_id)}"


def reader_access_gsi1(actor_id: str, at_ms: int, audit_id: str) -> tuple[str, str]:
    """Reads by one agent, newest first: Query gsi1 gsi1pk=AGENT#id AND begins_with(gsi1sk, ACCESS#)."""
    return agent_pk(actor_id), f"{READER_ACCESS_GSI1_PREFIX}{at_ms:013d}#{_id(audit_id)}"


# -- clients: guest visitors of the chat widget (rate limit of the guest token route) -------------


def guest_rate_key(address_digest: str, window: int) -> tuple[str, str]:
    """Guest tokens issued to one client address in one time window: UpdateItem pk=GUESTRATE#digest, sk=WINDOW#n.

    `address_digest` is a keyed hash of the address (never the address itself); items expire by TTL.
    """
    return f"GUESTRATE#{_id(address_digest)}", f"WINDOW#{window}"


# -- privacy rights (issue 16): marketing consent, erasure records ---------------------------------

CONSENT_SK_PREFIX = "CONSENT#"
CONSENT_LOG_SK_PREFIX = "CONSENTLOG#"
ERASURE_SK = "ERASURE"


def consent_sk(channel: str) -> str:
    """A customer's current marketing consent on one channel (or `all`): GetItem pk=CUST#id, sk=CONSENT#channel;
    every channel: Query pk=CUST#id AND begins_with(sk, CONSENT#)."""
    return f"{CONSENT_SK_PREFIX}{_id(channel)}"


def consent_log_sk(at_ms: int, entry_id: str) -> str:
    """The history of a customer's consent changes, oldest first: Query pk=CUST#id AND begins_with(sk, CONSENTLOG#)."""
    return f"{CONSENT_LOG_SK_PREFIX}{at_ms:013d}#{_id(entry_id)}"


def erasure_pk(erasure_id: str) -> str:
    """An erasure record (no personal data; `erasure_id` is a keyed hash of the customer id): GetItem
    pk=ERASURE#id, sk=ERASURE."""
    return f"ERASURE#{_id(erasure_id)}"


# -- ticket loop with the customer (issue 16) ------------------------------------------------------

TICKET_LINK_SK_PREFIX = "TICKET#"
TICKET_PENDING_SK = "TICKET_PENDING"


def customer_ticket_sk(created_ms: int, ticket_id: str) -> str:
    """A customer's tickets, oldest first: Query pk=CUST#id AND begins_with(sk, TICKET#) (a link item)."""
    return f"{TICKET_LINK_SK_PREFIX}{created_ms:013d}#{_id(ticket_id)}"


# -- outreach (issue 16): templates, follow-ups, opt-outs, contacts, campaigns --------------------

TEMPLATE_SK_PREFIX = "TEMPLATE#"
OUTREACH_SK_PREFIX = "OUTREACH#"
FOLLOWUP_SK_PREFIX = "OUTREACH#FOLLOWUP#"
CAMPAIGN_MARK_SK_PREFIX = "OUTREACH#CAMPAIGN#"
OPTOUT_SK_PREFIX = "OPTOUT#"
CONTACT_SK_PREFIX = "CONTACT#"
FOLLOWUP_DUE_GSI2_PK = "FOLLOWUP#DUE"
CAMPAIGNS_GSI1_PK = "CAMPAIGNS"
CAMPAIGN_META_SK = "META"
RECIPIENT_SK_PREFIX = "RCPT#"
CONTACT_SHARDS = 8


def template_sk(template_id: str, language: str) -> str:
    """A message template in one language: GetItem pk=CONFIG, sk=TEMPLATE#id#lang; all: begins_with(sk, TEMPLATE#)."""
    return f"{TEMPLATE_SK_PREFIX}{_id(template_id)}#{_id(language)}"


def followup_sk(followup_id: str) -> str:
    """A customer's follow-ups (and campaign marks): Query pk=CUST#id AND begins_with(sk, OUTREACH#)."""
    return f"{FOLLOWUP_SK_PREFIX}{_id(followup_id)}"


def followup_due_gsi2(due_ms: int, customer_id: str, followup_id: str) -> tuple[str, str]:
    """Scheduled follow-ups by due time (sparse): Query gsi2 gsi2pk=FOLLOWUP#DUE AND gsi2sk <= horizon."""
    return FOLLOWUP_DUE_GSI2_PK, f"{due_ms:013d}#{_id(customer_id)}#{_id(followup_id)}"


def campaign_mark_sk(campaign_id: str) -> str:
    """The customer got campaign `id` (their next message counts as its reply): pk=CUST#id, sk=OUTREACH#CAMPAIGN#id."""
    return f"{CAMPAIGN_MARK_SK_PREFIX}{_id(campaign_id)}"


def optout_sk(channel: str) -> str:
    """A customer's opt-out keyword, per channel it was said on: Query pk=CUST#id AND begins_with(sk, OPTOUT#)."""
    return f"{OPTOUT_SK_PREFIX}{_id(channel)}"


def contact_sk(channel: str) -> str:
    """A customer's last contact on one channel: GetItem pk=CUST#id, sk=CONTACT#channel."""
    return f"{CONTACT_SK_PREFIX}{_id(channel)}"


def _contact_shard(customer_id: str) -> int:
    """A stable shard of the contact index (spreads one channel's writes over CONTACT_SHARDS partitions)."""
    return zlib.crc32(customer_id.encode("utf-8")) % CONTACT_SHARDS


def contacts_gsi2_pk(channel: str, shard: int) -> str:
    """Customers by last contact on a channel (campaign segments): Query gsi2 gsi2pk=CONTACTS#ch#n, gsi2sk range."""
    return f"CONTACTS#{_id(channel)}#{shard}"


def contacts_gsi2(channel: str, customer_id: str, last_contact_ms: int) -> tuple[str, str]:
    return contacts_gsi2_pk(channel, _contact_shard(customer_id)), f"{last_contact_ms:013d}#{_id(customer_id)}"


def campaign_pk(campaign_id: str) -> str:
    """A campaign (sk=META) and its recipients (sk=RCPT#customer): GetItem / Query pk=CAMPAIGN#id."""
    return f"CAMPAIGN#{_id(campaign_id)}"


def recipient_sk(customer_id: str) -> str:
    return f"{RECIPIENT_SK_PREFIX}{_id(customer_id)}"


def campaigns_gsi1(created_ms: int, campaign_id: str) -> tuple[str, str]:
    """All campaigns, newest first: Query gsi1 gsi1pk=CAMPAIGNS (descending)."""
    return CAMPAIGNS_GSI1_PK, f"{created_ms:013d}#{_id(campaign_id)}"


def send_rate_key(channel: str, window: int) -> tuple[str, str]:
    """Sends on one channel in one rate window (campaign pacing): UpdateItem ADD pk=RATE#channel, sk=WINDOW#n."""
    return f"RATE#{_id(channel)}", f"WINDOW#{window}"


# -- issue 14: bot actions (slots per conversation, a circuit breaker per company endpoint) --------

ACTION_STATE_SK = "ACTION"
ACTION_BREAKER_SK = "BREAKER"


def action_state_key(conversation_id: str) -> tuple[str, str]:
    """Slots of a conversation (remembered values, the action waiting for one): GetItem pk=CONV#id, sk=ACTION.

    Expires by TTL (`expires_at`); readers also ignore an item past it, since DynamoDB deletes lazily.
    """
    return conversation_pk(conversation_id), ACTION_STATE_SK


def action_breaker_key(endpoint_digest: str) -> tuple[str, str]:
    """The circuit breaker of one action endpoint: GetItem / UpdateItem pk=ACTIONEP#digest, sk=BREAKER.

    `endpoint_digest` is a hash of the endpoint URL (scheme, host, port, path), so no URL goes into a key.
    """
    return f"ACTIONEP#{_id(endpoint_digest)}", ACTION_BREAKER_SK


# -- bot: missed questions for review (issue 14) ---------------------------------------------------


def misses_pk(day: str, shard: int) -> str:
    """One shard of the misses of a UTC day: MISSES#yyyy-mm-dd#n (GET /kb/misses reads `misses_pks(day)`)."""
    return f"MISSES#{_id(day)}#{shard}"


def misses_pks(day: str) -> list[str]:
    """Every shard of a day's misses: Query each with pk=MISSES#day#n AND sk BETWEEN <from ms> AND <to ms>."""
    return [misses_pk(day, n) for n in range(MISS_SHARDS)]


def miss_sk(ts_ms: int, message_id: str) -> str:
    """One miss, keyed by the customer message it is about: UpdateItem pk=MISSES#day#n, sk=<ts ms>#<message id>."""
    return f"{ts_ms:013d}#{_id(message_id)}"


def miss_key(ts_ms: int, message_id: str) -> tuple[str, str]:
    """The miss about one customer message (its UTC day's partition, the shard picked by the message id):
    what the recorder writes and what export and erasure look up from the message."""
    from datetime import UTC, datetime

    day = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
    return misses_pk(day, shard_of(_id(message_id), MISS_SHARDS)), miss_sk(ts_ms, message_id)
