"""The learning loop, measured: play two weeks, label the largest groups of misses, play two more weeks.

    python -m local.misses_loop [--customers 40] [--days 14] [--label 4]

Starts the local stack in this process with a simulated clock (the sample shop KB trains first),
registers simulated agents, and plays customers through the real gateway with `local/simulator.py`:
its conversation scripts plus questions the sample KB does not cover (gift cards, member prices,
warranty, opening a business account) in Chinese and English. Then, like a KB admin, it reads
`GET /kb/misses` for the first period and assigns the largest groups it can name (its answer key maps
every scripted text to the intent it is about) with `POST /kb/misses/{cluster}/assign`, waits for the
retrained model, and plays the second period with new customers. It prints, per period, containment
(share of conversations the bot handled without a handoff) and the fallback rate (share of the bot's
decisions that were "did not understand"), counted from the stored bot messages.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from local.simulator import SCRIPTS, Simulator, plan_sessions, setup_desk

# Questions the sample KB has no entry for, in the words customers use.
GAPS: dict[str, dict[str, Any]] = {
    "gift_cards": {
        "texts": ["Do you sell gift cards?", "can I buy a gift card", "礼品卡在哪里买", "有没有礼品卡卖"],
        "answers": {"en": "Gift cards of 100-1000 yuan are sold in every store and in the app under Me > Gift cards.",
                    "zh": "所有门店和App“我的 > 礼品卡”都可以购买100-1000元的礼品卡。"}},
    "member_prices": {
        "texts": ["Is there a discount for members?", "do members get cheaper prices", "会员有折扣吗",
                  "会员价怎么算"],
        "answers": {"en": "Members get 5% off every order and free shipping over 99 yuan.",
                    "zh": "会员每单享95折，满99元包邮。"}},
    "warranty": {
        "texts": ["How long is the warranty?", "is there a warranty on electronics", "保修期多久",
                  "电器坏了能保修吗"],
        "answers": {"en": "Electronics have a one-year warranty; bring the order number to any store.",
                    "zh": "电器保修一年，凭订单号到任意门店办理。"}},
    "business_account": {
        "texts": ["can I open a business account", "do you have corporate accounts", "企业账户怎么开通",
                  "公司采购可以开对公账户吗"],
        "answers": {"en": "Business accounts are opened in the app under Me > Business with your company licence.",
                    "zh": "在App“我的 > 企业服务”上传营业执照即可开通企业账户。"}},
}
GAP_SCRIPTS = [[text] for gap in GAPS.values() for text in gap["texts"]]
ANSWER_KEY = {text: name for name, gap in GAPS.items() for text in gap["texts"]}


def _request(url: str, token: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def measure(start_ms: int, end_ms: int) -> dict[str, Any]:
    """Containment and fallback rate of the conversations of a period, from the stored bot messages."""
    from chalicelib import services as composition
    from chalicelib.store.codec import decode

    table = composition.services().table
    decisions: Counter[str] = Counter()
    conversations: dict[str, bool] = {}
    handed: set[str] = set()
    kwargs: dict[str, Any] = {"TableName": table.name}
    client = composition.services().dynamodb
    while True:  # a benchmark may scan; no request path does
        page = client.scan(**kwargs)
        for raw in page.get("Items", []):
            item = decode(raw) or {}
            if not str(item.get("sk", "")).startswith("MSG#") or not start_ms <= int(item.get("ts_ms", 0)) < end_ms:
                continue
            sender = (item.get("sender") or {}).get("type")
            conversation = str(item.get("conversation_id"))
            if sender == "customer":
                conversations.setdefault(conversation, False)
            if sender == "bot" and (action := (item.get("meta") or {}).get("action")):
                decisions[action] += 1
                if action == "handoff":
                    handed.add(conversation)
            if sender == "agent":
                handed.add(conversation)
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    total = sum(decisions.values())
    n = len(conversations)
    return {"conversations": n, "bot_decisions": total, "decisions": dict(decisions),
            "containment": round(1 - len(handed & set(conversations)) / n, 3) if n else None,
            "fallback_rate": round(decisions["fallback"] / total, 3) if total else None}


def label(http: str, token: str, start: datetime, end: datetime, top: int) -> list[dict[str, Any]]:
    """Assign the largest groups the answer key can name (a new intent per gap, created once)."""
    period = {"from": start.isoformat(), "to": end.isoformat()}
    listing = _request(f"{http}/kb/misses?from={start:%Y-%m-%dT%H:%M:%S}&to={end:%Y-%m-%dT%H:%M:%S}&limit=50", token)
    print(f"misses of the first period: {listing['misses']} in {len(listing['clusters'])} groups; largest: "
          + "; ".join(f"{c['count']}x {c['examples'][0]!r}" for c in listing["clusters"][:6]), flush=True)
    done, labelled = set(), []
    for cluster in listing["clusters"]:
        if len(labelled) >= top:
            break
        names = Counter(ANSWER_KEY[t] for t in cluster["examples"] if t in ANSWER_KEY)
        if not names:
            continue
        name = names.most_common(1)[0][0]
        texts = [t for t in cluster["examples"] if ANSWER_KEY.get(t) == name]
        body: dict[str, Any] = {**period, "intent": name, "texts": texts}
        if name not in done:
            body["answers"] = GAPS[name]["answers"]
        result = _request(f"{http}/kb/misses/{cluster['id']}/assign", token, "POST", body)
        done.add(name)
        labelled.append({"cluster": cluster["id"], "count": cluster["count"], "intent": name,
                         "examples_added": result["examples_added"], "version": result["version"]})
        print(f"  labelled {cluster['count']}x group as {name} (+{result['examples_added']} examples, "
              f"kb v{result['version']})", flush=True)
    return labelled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--label", type=int, default=4, help="largest groups to label")
    parser.add_argument("--agents", type=int, default=2)
    args = parser.parse_args(argv)

    from local.clock import ClockClient, start_simulated_clock
    from local.devserver import LocalStack, free_port

    for name in ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "FAKE_PLATFORMS_PORT", "WEB_PORT"):
        os.environ.setdefault(name, str(free_port()))
    stack = LocalStack(host="127.0.0.1", http_port=int(os.environ["HTTP_PORT"]), ws_port=int(os.environ["WS_PORT"]),
                       management_port=int(os.environ["WS_MANAGEMENT_PORT"]), moto_port=free_port(),
                       fake_platforms_port=int(os.environ["FAKE_PLATFORMS_PORT"]), web_port=int(os.environ["WEB_PORT"]))
    clock_server = None
    try:
        urls = stack.start()
        clock_url, clock_server = start_simulated_clock("127.0.0.1", free_port())
        from chalicelib import services as composition
        from local.token import mint

        registry = composition.services().model_registry
        deadline = time.monotonic() + 900
        while registry.pointer(consistent=True) is None:
            if time.monotonic() > deadline:
                raise SystemExit("the sample KB model did not go live within 900 s")
            time.sleep(0.5)
        clock = ClockClient(clock_url)
        agents = [f"sim-agent-{i + 1}" for i in range(args.agents)]
        setup_desk(urls["http"], agents)
        admin = mint("agent", "loop-admin", role="admin")
        scripts = SCRIPTS + GAP_SCRIPTS * 2  # the gaps are common questions
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=2 * args.days)
        second = first + timedelta(days=args.days)
        figures: dict[str, Any] = {}
        for period, start, seed in (("before", first, 1), ("after", second, 2)):
            sessions = plan_sessions(start, args.days, args.customers, seed, scripts=scripts)
            simulator = Simulator(urls["ws"], clock, agents=agents, seed=seed)
            print(f"{period}: {len(sessions)} contacts, {start:%Y-%m-%d} + {args.days} days", flush=True)
            for session in sessions:
                try:
                    simulator.play(session)
                except Exception as exc:  # a refused socket: counted, the loop goes on
                    simulator.errors += 1
                    print(f"session failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            end = start + timedelta(days=args.days)
            figures[period] = {**measure(int(start.timestamp() * 1000), int(end.timestamp() * 1000)),
                               "contacts": len(sessions), "errors": simulator.errors}
            print(f"{period}: {json.dumps(figures[period])}", flush=True)
            if period == "before":
                clock.set_ms(int(end.timestamp() * 1000))
                labelled = label(urls["http"], admin, start, end, args.label)
                figures["labelled"] = labelled
                wanted = max((x["version"] for x in labelled), default=0)
                deadline = time.monotonic() + 900
                while (p := registry.pointer(consistent=True)) is None or p.version < wanted:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"kb v{wanted} not trained within 900 s")
                    time.sleep(0.5)
                composition.services().model_provider.refresh()
                print(f"retrained: model kb-v{wanted} live", flush=True)
        b, a = figures["before"], figures["after"]
        print(f"\ncontainment {b['containment']} -> {a['containment']}, fallback rate {b['fallback_rate']} -> "
              f"{a['fallback_rate']} ({b['conversations']} and {a['conversations']} conversations, "
              f"{len(figures['labelled'])} groups labelled)", flush=True)
        print(json.dumps(figures), flush=True)
    finally:
        stack.stop()
        if clock_server is not None:
            clock_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
