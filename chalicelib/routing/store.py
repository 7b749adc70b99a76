"""Agents, teams, the waiting queue and the routing attributes of conversations in the single table.

Every state change that matters for correctness is one conditional write or one transaction:
an offer is a TransactWriteItems that increments the agent's load only while `load < capacity`
and the agent is online, marks the conversation as offered only while nobody holds it, creates the
agent's work item and deletes the queue entry. So a conversation is never offered or assigned
twice and no agent exceeds its capacity, however many routing invocations race.
"""

from __future__ import annotations

from typing import Any

from chalicelib import ids
from chalicelib.routing.models import (
    Agent,
    AgentInput,
    AgentStatus,
    CannedInput,
    DeskConfig,
    EscalationRequest,
    QueueEntry,
    RoutingState,
    Team,
    TeamInput,
    WorkItem,
)
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.conversation_store import seq_status_update
from chalicelib.store.dynamo import names
from chalicelib.store.table import ConditionFailed, Table, TransactionCancelled


class AgentUnavailable(Exception):
    """The agent is no longer online or is at capacity."""


class ConversationTaken(Exception):
    """The conversation is closed, already offered or assigned, or no longer in the expected state."""


_NOBODY_HOLDS = "attribute_not_exists(assigned_agent) AND attribute_not_exists(offered_agent)"


def _v(value: object) -> dict[str, Any]:
    return encode_value(value)


class RoutingStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- generic ---------------------------------------------------------------------------------

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return encode({schema.PK: pk, schema.SK: sk})

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return decode(self._table.get_item(Key=self._key(pk, sk), ConsistentRead=True).get("Item"))

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
        """Run a transaction; None on success, the per-item cancellation codes on a condition failure."""
        try:
            self._table.transact(items)
        except TransactionCancelled as exc:
            if exc.condition_failed:
                return exc.codes
            raise
        return None

    # -- agents ----------------------------------------------------------------------------------

    def put_agent(self, agent_id: str, data: AgentInput) -> Agent:
        gsi1pk, gsi1sk = keys.agent_list_gsi1(agent_id)
        values = {":name": data.name, ":skills": data.skills, ":languages": data.languages,
                  ":capacity": data.capacity, ":role": data.role, ":id": agent_id, ":g1": gsi1pk, ":g1s": gsi1sk,
                  ":zero": 0, ":offline": "offline", ":now": ids.now_ms()}
        sets = ["#name = :name", "skills = :skills", "languages = :languages", "#capacity = :capacity",
                "#role = :role", "agent_id = :id", "gsi1pk = :g1", "gsi1sk = :g1s",
                "#load = if_not_exists(#load, :zero)",
                "#status = if_not_exists(#status, :offline)", "updated_ms = :now"]
        if data.team_id:
            sets.append("team_id = :team")
            values[":team"] = data.team_id
        update = "SET " + ", ".join(sets) + ("" if data.team_id else " REMOVE team_id")
        result = self._table.update_item(
            Key=self._key(keys.agent_pk(agent_id), keys.AGENT_PROFILE_SK),
            UpdateExpression=update, ExpressionAttributeNames=names("name", "role", "load", "status", "capacity"),
            ExpressionAttributeValues={k: _v(v) for k, v in values.items()}, ReturnValues="ALL_NEW")
        return Agent.model_validate(decode(result["Attributes"]))

    def get_agent(self, agent_id: str) -> Agent | None:
        item = self._get(keys.agent_pk(agent_id), keys.AGENT_PROFILE_SK)
        return Agent.model_validate(item) if item else None

    def list_agents(self) -> list[Agent]:
        items = [item for pk in keys.agent_list_gsi1_pks()
                 for item in self._table.query_all(IndexName=schema.GSI1, KeyConditionExpression="gsi1pk = :pk",
                                                   ExpressionAttributeValues={":pk": _v(pk)})]
        return sorted((Agent.model_validate(decode(i)) for i in items), key=lambda agent: agent.agent_id)

    def queue_stats(self) -> dict[str, int]:
        """Waiting conversations and agents online, for the live dashboard."""
        return {"queue_length": len(self.waiting()), "agents_online": len(self.online_agents())}

    def online_agents(self) -> list[Agent]:
        items = [item for pk in keys.online_agents_gsi2_pks()
                 for item in self._table.query_all(IndexName=schema.GSI2, KeyConditionExpression="gsi2pk = :pk",
                                                   ExpressionAttributeValues={":pk": _v(pk)})]
        agents = [Agent.model_validate(decode(i)) for i in items]
        return sorted(agents, key=lambda agent: agent.agent_id)

    def set_status(self, agent_id: str, status: AgentStatus) -> Agent:
        values: dict[str, Any] = {":s": _v(status), ":now": _v(ids.now_ms())}
        if status == "online":
            gsi2pk, gsi2sk = keys.online_agent_gsi2(agent_id)
            update = "SET #status = :s, status_ms = :now, gsi2pk = :g2, gsi2sk = :g2s"
            values.update({":g2": _v(gsi2pk), ":g2s": _v(gsi2sk)})
        else:
            update = "SET #status = :s, status_ms = :now REMOVE gsi2pk, gsi2sk"
        try:
            result = self._table.update_item(
                Key=self._key(keys.agent_pk(agent_id), keys.AGENT_PROFILE_SK),
                UpdateExpression=update, ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names("status"), ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        except ConditionFailed as exc:
            raise KeyError(agent_id) from exc
        return Agent.model_validate(decode(result["Attributes"]))

    def work_items(self, agent_id: str) -> list[WorkItem]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :w)", ConsistentRead=True,
                          ExpressionAttributeValues={":pk": _v(keys.agent_pk(agent_id)), ":w": _v(keys.WORK_SK_PREFIX)})
        return [WorkItem.model_validate(decode(i)) for i in items]

    # -- teams, desk config, canned responses -------------------------------------------------------

    def put_team(self, team_id: str, data: TeamInput) -> Team:
        team = Team(team_id=team_id, **data.model_dump())
        item = {schema.PK: keys.team_pk(team_id), schema.SK: keys.AGENT_PROFILE_SK, schema.GSI1_PK: keys.TEAMS_GSI1_PK,
                schema.GSI1_SK: keys.team_pk(team_id), **team.model_dump(mode="json")}
        self._table.put_item(Item=encode(item))
        return team

    def get_team(self, team_id: str) -> Team | None:
        item = self._get(keys.team_pk(team_id), keys.AGENT_PROFILE_SK)
        return Team.model_validate(item) if item else None

    def list_teams(self) -> list[Team]:
        items = self._table.query_all(IndexName=schema.GSI1,
                          KeyConditionExpression="gsi1pk = :pk",
                          ExpressionAttributeValues={":pk": _v(keys.TEAMS_GSI1_PK)})
        return [Team.model_validate(decode(i)) for i in items]

    def get_config(self) -> DeskConfig:
        item = self._get(keys.CONFIG_PK, keys.DESK_CONFIG_SK)
        return DeskConfig.model_validate(item.get("config", {})) if item else DeskConfig()

    def put_config(self, config: DeskConfig) -> DeskConfig:
        item = {schema.PK: keys.CONFIG_PK, schema.SK: keys.DESK_CONFIG_SK, "config": config.model_dump(mode="json")}
        self._table.put_item(Item=encode(item))
        return config

    def put_canned(self, canned_id: str, data: CannedInput) -> dict[str, Any]:
        item = {schema.PK: keys.CONFIG_PK, schema.SK: keys.canned_sk(canned_id), "canned_id": canned_id,
                **data.model_dump()}
        self._table.put_item(Item=encode(item))
        return {"canned_id": canned_id, **data.model_dump()}

    def get_canned(self, canned_id: str) -> dict[str, Any] | None:
        item = self._get(keys.CONFIG_PK, keys.canned_sk(canned_id))
        return {k: item[k] for k in ("canned_id", "title", "text")} if item else None

    def list_canned(self) -> list[dict[str, Any]]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
                          ExpressionAttributeValues={":pk": _v(keys.CONFIG_PK), ":c": _v(keys.canned_sk(""))})
        return [{k: d[k] for k in ("canned_id", "title", "text")} for d in (decode(i) or {} for i in items)]

    # -- conversations' routing state ---------------------------------------------------------------

    def routing_state(self, conversation_id: str) -> RoutingState | None:
        item = self._get(keys.conversation_pk(conversation_id), keys.META_SK)
        return RoutingState.model_validate(item) if item else None

    def mark_escalated(self, request: EscalationRequest, now_ms: int) -> tuple[str, RoutingState | None]:
        """Record the escalation on the conversation: ("new" | "redelivery" | "ignored", state).

        "ignored": the conversation is closed, unknown, or already escalated under another key
        (queued, offered or assigned), so a second escalation changes nothing.
        """
        values = {":k": request.idempotency_key, ":p": request.priority, ":now": now_ms, ":skills": request.skills,
                  ":lang": request.language, ":reason": request.reason, ":queued": "queued", ":open": "open",
                  ":offline": "offline", ":resolved": "resolved", ":empty": []}
        sets = ["escalation_key = :k", "priority = :p", "queued_ms = :now", "skills = :skills", "#language = :lang",
                "reason = :reason", "routing_status = :queued", "declined_by = :empty"]
        if request.team_id:
            sets.append("team_id = :team")
            values[":team"] = request.team_id
        update = "SET " + ", ".join(sets) + ("" if request.team_id else " REMOVE team_id")
        try:
            result = self._table.update_item(
                Key=self._key(keys.conversation_pk(request.conversation_id), keys.META_SK),
                UpdateExpression=update,
                ConditionExpression="#status = :open AND customer_id = :cust AND attribute_not_exists(assigned_agent) "
                                    "AND attribute_not_exists(offered_agent) AND (attribute_not_exists(routing_status) "
                                    "OR routing_status IN (:offline, :resolved)) AND "
                                    "(attribute_not_exists(escalation_key) OR escalation_key <> :k)",
                ExpressionAttributeNames=names("status", "language"),
                ExpressionAttributeValues={**{k: _v(v) for k, v in values.items()}, ":cust": _v(request.customer_id)},
                ReturnValues="ALL_NEW")
        except ConditionFailed:
            state = self.routing_state(request.conversation_id)
            if state is not None and state.status == "open" and state.escalation_key == request.idempotency_key:
                return "redelivery", state
            return "ignored", state
        return "new", RoutingState.model_validate(decode(result["Attributes"]))

    def mark_offline(self, conversation_id: str, escalation_key: str) -> bool:
        """Outside business hours: the escalation became a ticket (only once per escalation)."""
        try:
            self._table.update_item(
                Key=self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                UpdateExpression="SET routing_status = :offline",
                ConditionExpression="routing_status = :queued AND escalation_key = :k",
                ExpressionAttributeValues={":offline": _v("offline"), ":queued": _v("queued"),
                                           ":k": _v(escalation_key)})
        except ConditionFailed:
            return False
        return True

    # -- the waiting queue --------------------------------------------------------------------------

    @staticmethod
    def queue_entry_for(state: RoutingState) -> QueueEntry:
        queued_ms = state.queued_ms or state.created_ms
        return QueueEntry(sk=keys.queue_sk(state.priority, queued_ms, state.conversation_id),
                          conversation_id=state.conversation_id, customer_id=state.customer_id,
                          priority=state.priority, queued_ms=queued_ms, skills=state.skills, language=state.language,
                          team_id=state.team_id, declined_by=state.declined_by)

    def _queue_put(self, entry: QueueEntry) -> dict[str, Any]:
        item = {schema.PK: keys.waiting_queue_pk(entry.sk), **entry.model_dump(exclude={"told_position"})}
        return {"Put": {"Item": encode(item)}}

    def enqueue(self, state: RoutingState) -> QueueEntry | None:
        """Put the conversation in the waiting queue if it is still waiting; idempotent (same key)."""
        entry = self.queue_entry_for(state)
        codes = self._transact([
            {"ConditionCheck": {"Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                                "ConditionExpression": "#status = :open AND routing_status = :queued "
                                                       "AND attribute_not_exists(offered_agent) "
                                                       "AND attribute_not_exists(assigned_agent)",
                                "ExpressionAttributeNames": names("status"),
                                "ExpressionAttributeValues": {":open": _v("open"), ":queued": _v("queued")}}},
            self._queue_put(entry),
        ])
        return None if codes else entry

    def waiting(self, limit: int | None = None) -> list[QueueEntry]:
        """The queue's head (or all of it): every shard's head, merged by sort key (priority, then age)."""
        items: list[dict[str, Any]] = []
        for pk in keys.waiting_queue_pks():
            kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk",
                                      "ExpressionAttributeValues": {":pk": _v(pk)}, "ConsistentRead": True}
            items += self._table.query(Limit=limit, **kwargs).get("Items", []) if limit else \
                self._table.query_all(**kwargs)
        entries = sorted((QueueEntry.model_validate(decode(i)) for i in items), key=lambda entry: entry.sk)
        return entries[:limit] if limit else entries

    def position(self, sk: str) -> int:
        """1 + the number of conversations ahead of this queue entry (per shard: Query Select=COUNT, sk < mine)."""
        ahead = 0
        for pk in keys.waiting_queue_pks():
            kwargs: dict[str, Any] = {"Select": "COUNT", "ConsistentRead": True,
                                      "KeyConditionExpression": "pk = :pk AND sk < :sk",
                                      "ExpressionAttributeValues": {":pk": _v(pk), ":sk": _v(sk)}}
            while True:
                page = self._table.query(**kwargs)
                ahead += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return ahead + 1

    def drop_queue_entry(self, sk: str) -> None:
        self._table.delete_item(Key=self._key(keys.waiting_queue_pk(sk), sk))

    def set_told_position(self, sk: str, position: int) -> bool:
        try:
            self._table.update_item(Key=self._key(keys.waiting_queue_pk(sk), sk),
                                 UpdateExpression="SET told_position = :p", ConditionExpression="attribute_exists(pk)",
                                 ExpressionAttributeValues={":p": _v(position)})
        except ConditionFailed:
            return False
        return True

    # -- offers and assignments ---------------------------------------------------------------------

    def _agent_load(self, agent_id: str, delta: int, *, need_capacity: bool) -> dict[str, Any]:
        update: dict[str, Any] = {
            "Key": self._key(keys.agent_pk(agent_id), keys.AGENT_PROFILE_SK),
            "UpdateExpression": "ADD #load :d SET last_assigned_ms = :now" if need_capacity else "ADD #load :d",
            "ExpressionAttributeNames": names("load"),
            "ExpressionAttributeValues": {":d": _v(delta)},
        }
        if need_capacity:
            update["ConditionExpression"] = "#status = :online AND #load < #capacity"
            update["ExpressionAttributeNames"] = names("load", "status", "capacity")
            update["ExpressionAttributeValues"].update({":online": _v("online"), ":now": _v(ids.now_ms())})
        else:
            update["ConditionExpression"] = "#load > :zero"
            update["ExpressionAttributeValues"][":zero"] = _v(0)
        return {"Update": update}

    def _work_put(self, agent_id: str, state: RoutingState, work_state: str, now: int,
                  expires_ms: int | None) -> dict[str, Any]:
        item = WorkItem(conversation_id=state.conversation_id, customer_id=state.customer_id, state=work_state,
                        since_ms=now, expires_ms=expires_ms, priority=state.priority, reason=state.reason)
        key = {schema.PK: keys.agent_pk(agent_id), schema.SK: keys.work_sk(state.conversation_id)}
        return {"Put": {"Item": encode({**key, **item.model_dump()})}}

    def _work_delete(self, agent_id: str, conversation_id: str) -> dict[str, Any]:
        return {"Delete": {"Key": self._key(keys.agent_pk(agent_id), keys.work_sk(conversation_id))}}

    def offer(self, state: RoutingState, agent_id: str, expires_ms: int, queue_sk: str | None) -> None:
        """Reserve one of the agent's slots for the conversation; raises AgentUnavailable / ConversationTaken."""
        now = ids.now_ms()
        items = [
            self._agent_load(agent_id, 1, need_capacity=True),
            {"Update": {
                "Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                "UpdateExpression": "SET offered_agent = :a, offer_expires_ms = :exp, routing_status = :offered",
                "ConditionExpression": "#status = :open AND routing_status = :queued "
                                       "AND attribute_not_exists(offered_agent) "
                                       "AND attribute_not_exists(assigned_agent)",
                "ExpressionAttributeNames": names("status"),
                "ExpressionAttributeValues": {":a": _v(agent_id), ":exp": _v(expires_ms), ":offered": _v("offered"),
                                              ":open": _v("open"), ":queued": _v("queued")}}},
            self._work_put(agent_id, state, "offered", now, expires_ms),
        ]
        if queue_sk:
            items.append({"Delete": {"Key": self._key(keys.waiting_queue_pk(queue_sk), queue_sk)}})
        codes = self._transact(items)
        if codes:
            if codes[0] == "ConditionalCheckFailed":
                raise AgentUnavailable(agent_id)
            raise ConversationTaken(state.conversation_id)

    def accept(self, conversation_id: str, agent_id: str, now_ms: int) -> None:
        """The offered agent takes the conversation (before the offer expires)."""
        codes = self._transact([
            {"Update": {
                "Key": self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                "UpdateExpression": "SET assigned_agent = :a, routing_status = :assigned, assigned_ms = :now "
                                    "REMOVE offered_agent, offer_expires_ms",
                "ConditionExpression": "#status = :open AND offered_agent = :a AND offer_expires_ms > :now",
                "ExpressionAttributeNames": names("status"),
                "ExpressionAttributeValues": {":a": _v(agent_id), ":assigned": _v("assigned"), ":now": _v(now_ms),
                                              ":open": _v("open")}}},
            {"Update": {
                "Key": self._key(keys.agent_pk(agent_id), keys.work_sk(conversation_id)),
                "UpdateExpression": "SET #state = :assigned, since_ms = :now REMOVE expires_ms",
                "ExpressionAttributeNames": names("state"),
                "ExpressionAttributeValues": {":assigned": _v("assigned"), ":now": _v(now_ms)}}},
        ])
        if codes:
            raise ConversationTaken(conversation_id)

    def revoke_offer(self, state: RoutingState, agent_id: str, *, expired_before_ms: int | None) -> bool:
        """Take an offer back (declined, or expired before `expired_before_ms`) and requeue in its old place."""
        condition = "offered_agent = :a"
        values = {":a": _v(agent_id), ":queued": _v("queued"), ":me": _v([agent_id]), ":none": _v([])}
        if expired_before_ms is not None:
            condition += " AND offer_expires_ms <= :cut"
            values[":cut"] = _v(expired_before_ms)
        declined = [*state.declined_by, agent_id]
        requeued = state.model_copy(update={"declined_by": declined})
        items = [
            {"Update": {
                "Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                "UpdateExpression": "SET routing_status = :queued, "
                                    "declined_by = list_append(if_not_exists(declined_by, :none), :me) "
                                    "REMOVE offered_agent, offer_expires_ms",
                "ConditionExpression": condition, "ExpressionAttributeValues": values}},
            self._agent_load(agent_id, -1, need_capacity=False),
            self._work_delete(agent_id, state.conversation_id),
        ]
        if state.status == "open":
            items.append(self._queue_put(self.queue_entry_for(requeued)))
        return self._transact(items) is None

    def release(self, state: RoutingState, agent_id: str, *, to_queue: bool, team_id: str | None = None,
                resolved: bool = False) -> bool:
        """The assigned agent lets go: resolved (the slot frees) or back to the queue (transfer)."""
        values: dict[str, Any] = {":a": _v(agent_id), ":now": _v(ids.now_ms())}
        if resolved:
            update = "SET routing_status = :resolved, resolved_by = :a, resolved_ms = :now REMOVE assigned_agent"
            values[":resolved"] = _v("resolved")
        else:
            update = "SET routing_status = :queued, queued_ms = if_not_exists(queued_ms, :now) REMOVE assigned_agent"
            values[":queued"] = _v("queued")
            if team_id:
                update = update.replace("SET ", "SET team_id = :team, ")
                values[":team"] = _v(team_id)
        items = [
            {"Update": {"Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                        "UpdateExpression": update, "ConditionExpression": "assigned_agent = :a",
                        "ExpressionAttributeValues": values}},
            self._agent_load(agent_id, -1, need_capacity=False),
            self._work_delete(agent_id, state.conversation_id),
        ]
        if to_queue:
            waiting = state.model_copy(update={"team_id": team_id or state.team_id,
                                               "queued_ms": state.queued_ms or ids.now_ms()})
            items.append(self._queue_put(self.queue_entry_for(waiting)))
        return self._transact(items) is None

    def transfer_to_agent(self, state: RoutingState, from_agent: str, to_agent: str, expires_ms: int) -> None:
        """Hand an assigned conversation to a named agent as an offer; raises AgentUnavailable / ConversationTaken."""
        now = ids.now_ms()
        codes = self._transact([
            self._agent_load(to_agent, 1, need_capacity=True),
            {"Update": {"Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                        "UpdateExpression": "SET offered_agent = :to, offer_expires_ms = :exp, "
                                            "routing_status = :offered "
                                            "REMOVE assigned_agent",
                        "ConditionExpression": "assigned_agent = :from AND #status = :open",
                        "ExpressionAttributeNames": names("status"),
                        "ExpressionAttributeValues": {":to": _v(to_agent), ":from": _v(from_agent),
                                                      ":exp": _v(expires_ms),
                                                      ":offered": _v("offered"), ":open": _v("open")}}},
            self._agent_load(from_agent, -1, need_capacity=False),
            self._work_delete(from_agent, state.conversation_id),
            self._work_put(to_agent, state, "offered", now, expires_ms),
        ])
        if codes:
            if codes[0] == "ConditionalCheckFailed":
                raise AgentUnavailable(to_agent)
            raise ConversationTaken(state.conversation_id)

    def assign_directly(self, state: RoutingState, agent_id: str) -> None:
        """Reopen: the reopening agent holds the conversation at once (still within capacity)."""
        now = ids.now_ms()
        codes = self._transact([
            self._agent_load(agent_id, 1, need_capacity=True),
            {"Update": {"Key": self._key(keys.conversation_pk(state.conversation_id), keys.META_SK),
                        "UpdateExpression": "SET assigned_agent = :a, routing_status = :assigned, assigned_ms = :now",
                        "ConditionExpression": _NOBODY_HOLDS,
                        "ExpressionAttributeValues": {":a": _v(agent_id), ":assigned": _v("assigned"),
                                                      ":now": _v(now)}}},
            self._work_put(agent_id, state, "assigned", now, None),
        ])
        if codes:
            if codes[0] == "ConditionalCheckFailed":
                raise AgentUnavailable(agent_id)
            raise ConversationTaken(state.conversation_id)

    def note_first_agent_reply(self, conversation_id: str, now_ms: int) -> None:
        self._table.update_item(Key=self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                             UpdateExpression="SET first_agent_reply_ms = if_not_exists(first_agent_reply_ms, :now)",
                             ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":now": _v(now_ms)})

    # -- conversation life cycle beyond the foundation's open/close ---------------------------------

    def reopen(self, conversation_id: str, customer_id: str) -> bool:
        """Open a closed conversation again; False if the customer has another open one meanwhile."""
        codes = self._transact([
            {"Put": {"Item": encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.OPEN_CONVERSATION_SK,
                                     "conversation_id": conversation_id, "created_ms": ids.now_ms()}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"Key": self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                        "UpdateExpression": "SET #status = :open, reopened_ms = :now "
                                            "REMOVE closed_ms, close_reason, assigned_agent, offered_agent",
                        "ConditionExpression": "#status = :closed",
                        "ExpressionAttributeNames": names("status"),
                        "ExpressionAttributeValues": {":open": _v("open"), ":closed": _v("closed"),
                                                      ":now": _v(ids.now_ms())}}},
            seq_status_update(conversation_id, "open"),
        ])
        return codes is None

    def touch_activity(self, conversation_id: str, activity_ms: int) -> None:
        """Move an open conversation's idle-index entry to its latest activity."""
        gsi2pk, gsi2sk = keys.idle_gsi2(conversation_id, activity_ms)
        try:
            self._table.update_item(
                Key=self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                UpdateExpression="SET gsi2pk = :pk, gsi2sk = :sk", ConditionExpression="#status = :open",
                ExpressionAttributeNames=names("status"),
                ExpressionAttributeValues={":pk": _v(gsi2pk), ":sk": _v(gsi2sk), ":open": _v("open")})
        except ConditionFailed:
            return  # closed meanwhile: it no longer belongs in the idle index

    def idle_since(self, cutoff_ms: int) -> list[RoutingState]:
        """Open conversations whose indexed activity is at or before `cutoff_ms` (one Query per shard)."""
        found = []
        for pk in keys.idle_pks():
            found += self._table.query_all(IndexName=schema.GSI2,
                                           KeyConditionExpression="gsi2pk = :pk AND gsi2sk <= :cut",
                                           ExpressionAttributeValues={":pk": _v(pk), ":cut": _v(f"{cutoff_ms:013d}~")})
        return [RoutingState.model_validate(decode(i)) for i in found]

    def legacy_idle_bucket(self, bucket: int) -> list[RoutingState]:
        items = self._table.query_all(IndexName=schema.GSI2, KeyConditionExpression="gsi2pk = :pk",
                                      ExpressionAttributeValues={":pk": _v(keys.legacy_idle_bucket_pk(bucket))})
        return [RoutingState.model_validate(decode(i)) for i in items]

    def legacy_sweep_cursor(self) -> int | None:
        """The bucket where the bucketed idle index's sweep stopped (None: never ran, or migrated)."""
        item = self._get(keys.CONFIG_PK, keys.IDLE_SWEEP_SK)
        return int(item["bucket"]) if item else None

    def clear_legacy_sweep_cursor(self) -> None:
        self._table.delete_item(Key=self._key(keys.CONFIG_PK, keys.IDLE_SWEEP_SK))

    def mark_queued(self, conversation_id: str) -> None:
        self._table.update_item(Key=self._key(keys.conversation_pk(conversation_id), keys.META_SK),
                             UpdateExpression="SET routing_status = :q, queued_ms = :now",
                             ConditionExpression=_NOBODY_HOLDS,
                             ExpressionAttributeValues={":q": _v("queued"), ":now": _v(ids.now_ms())})
