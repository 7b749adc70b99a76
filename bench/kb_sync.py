"""Edit-to-live time of the knowledge base on the local stack: from a KB edit to the bot's new answer.

Starts the local stack (which imports and trains the sample KB), waits for that model, then edits
the answer of one entry N times through the REST API (PUT /kb/intents/store_hours, as an admin) and,
after each edit, asks the bot over WebSocket every 0.25 s until it answers with the new text. Prints,
per edit and as medians: edit -> model trained and pointer moved (queue + training + S3 + pointer),
and edit -> the bot answers with the new text (adds the serving function's pointer refresh, at most
BOT_MODEL_REFRESH_SECONDS, default 10 s).

    python -m bench.kb_sync [--edits 3] [--refresh-seconds 10]

With ``--large CSV`` (``text,label``, e.g. BANKING77's 10,003 training examples) it measures the
trainer function itself on a large knowledge base instead, in-process against moto (the same
Trainer, S3 embedding cache and model registry a Lambda container builds): a cold full training
(empty embedding cache), a warm full retrain in a new container (every vector in S3), and a one-intent
edit in a new container and in the same (warm) container, each from the job to the published pointer.
It prints wall and CPU seconds (a loaded machine stretches wall time, not CPU time) and what the cache
did. Edit-to-live adds the queue's delivery and the serving refresh (at most BOT_MODEL_REFRESH_SECONDS).

    python -m bench.kb_sync --large ../shared/datasets/banking77/train.csv
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
import urllib.request

from websockets.sync.client import connect

from local.devserver import LocalStack, free_port

QUESTION = "what are your opening hours?"


def _put_answer(http: str, token: str, answer: str) -> int:
    body = {"examples": ["what are your opening hours", "when does the store open", "are you open on weekends",
                         "门店几点开门", "营业时间是什么", "周末营业吗"],
            "answers": {"en": answer, "zh": answer}, "titles": {"en": "What are your store hours?",
                                                                "zh": "门店营业时间是几点？"}, "tags": ["stores"]}
    request = urllib.request.Request(f"{http}/kb/intents/store_hours", data=json.dumps(body).encode(), method="PUT",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["version"]


def _ask(ws, n: int) -> str:
    ws.send(json.dumps({"action": "sendMessage", "client_msg_id": f"kb-sync-{n}", "text": QUESTION}))
    while True:
        frame = json.loads(ws.recv(timeout=30))
        if frame.get("type") == "message" and frame["message"]["sender"]["type"] == "bot":
            return frame["message"]["text"]


def _large_kb(path: str) -> dict:
    import csv

    grouped: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            grouped.setdefault(row["label"].strip(), []).append(row["text"].strip())
    intents = {}
    for label, texts in sorted(grouped.items()):
        name = "".join(c if c.isalnum() else "_" for c in label.lower())[:64]
        title = label.replace("_", " ")
        intents[name] = {"examples": texts[:500], "answers": {"en": f"About {title}: here is what to do.",
                                                              "zh": f"关于{title}：请按以下步骤操作。"},
                         "titles": {"en": title.capitalize()}}
    return {"intents": intents}


def large(path: str, profile: bool = False) -> int:
    """Cold full, warm full and one-intent edits of the trainer on a large KB (in-process moto)."""
    import copy

    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import boto3

    from chalicelib import services as composition
    from chalicelib.bot.kb import KnowledgeBaseDocument
    from chalicelib.bot.training import TrainJob
    from infra.provision import lambda_environment, provision

    for name, value in lambda_environment("local").items():
        os.environ.setdefault(name, value)
    document = _large_kb(path)
    n_examples = sum(len(e["examples"]) for e in document["intents"].values())
    print(f"large KB: {len(document['intents'])} intents, {n_examples} examples ({path})", flush=True)
    rows = []
    with mock_aws():
        provision(boto3.session.Session(region_name="us-east-1"), "local")
        composition.reset()

        def run(label: str, doc: dict, *, new_container: bool, profile: bool = False) -> None:
            if new_container:
                composition.reset()  # a new container: nothing in memory, the cache only in S3
            services = composition.services()
            version, _, _ = services.kb_store.replace_all(KnowledgeBaseDocument.model_validate(doc), actor="bench",
                                                          replace=True)
            trainer = services.trainer
            profiler = cProfile.Profile() if profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            outcome = trainer.handle(TrainJob(version=version))
            if profiler is not None:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stats = outcome.embeddings
            rows.append((label, wall, cpu, stats))
            cache = (f"texts={stats.texts} embedded={stats.embedded} from_s3={stats.from_s3} "
                     f"from_memory={stats.from_memory} packs_read={stats.packs_read} "
                     f"packs_written={stats.packs_written} encode={stats.encode_seconds:.1f} s "
                     f"load={stats.load_seconds:.1f} s save={stats.save_seconds:.1f} s") if stats else "no cache"
            print(f"{label:<44} {wall:7.1f} s wall {cpu:7.1f} s CPU  published={outcome.trained}  {cache}",
                  flush=True)
            if profiler is not None:
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(18)
            del trainer

        run("cold full (empty cache, new container)", document, new_container=True, profile=profile)
        touched = copy.deepcopy(document)
        # a full retrain of the same content at a new version: every vector comes from S3
        first = sorted(touched["intents"])[0]
        touched["intents"][first]["tags"] = ["bench"]
        run("warm full (new container, cache in S3)", touched, new_container=True)
        edited = copy.deepcopy(touched)
        name = sorted(edited["intents"])[len(edited["intents"]) // 2]
        entry = edited["intents"][name]
        entry["examples"] = [f"{t} please" for t in entry["examples"][:40]] + entry["examples"][40:]
        entry["answers"]["en"] = "Edited: " + entry["answers"]["en"]
        run(f"one-intent edit ({name}, new container)", edited, new_container=True, profile=profile)
        again = copy.deepcopy(edited)
        again["intents"][name]["examples"] = [f"{t} thanks" for t in again["intents"][name]["examples"][:40]] \
            + again["intents"][name]["examples"][40:]
        run(f"one-intent edit ({name}, warm container)", again, new_container=False)
        composition.reset()
    print(json.dumps({label: {"wall_s": round(w, 1), "cpu_s": round(c, 1),
                              "embedded": s.embedded if s else None} for label, w, c, s in rows}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", metavar="CSV", help="measure the trainer on a large KB (text,label CSV) instead")
    parser.add_argument("--profile", action="store_true",
                        help="with --large: cProfile the cold full training and the one-intent edit")
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--refresh-seconds", type=float, default=None,
                        help="BOT_MODEL_REFRESH_SECONDS for the stack (default: the setting's default, 10 s)")
    args = parser.parse_args(argv)
    if args.large:
        return large(args.large, args.profile)
    if args.refresh_seconds is not None:
        os.environ["BOT_MODEL_REFRESH_SECONDS"] = str(args.refresh_seconds)
    for name in ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "FAKE_PLATFORMS_PORT", "CLOCK_PORT"):
        os.environ.setdefault(name, str(free_port()))
    stack = LocalStack(host="127.0.0.1", http_port=int(os.environ["HTTP_PORT"]), ws_port=int(os.environ["WS_PORT"]),
                       management_port=int(os.environ["WS_MANAGEMENT_PORT"]), moto_port=free_port(),
                       fake_platforms_port=int(os.environ["FAKE_PLATFORMS_PORT"]))
    try:
        started = time.monotonic()
        urls = stack.start()  # imports the sample KB and queues its training (local/bot_seed.py)
        from chalicelib import services as composition

        while composition.services().model_registry.pointer(consistent=True) is None:
            if time.monotonic() - started > 300:
                raise SystemExit("the sample KB model did not go live within 300 s")
            time.sleep(0.2)
        print(f"sample KB model live {time.monotonic() - started:.1f} s after start-up", flush=True)
        from local.token import mint

        refresh = composition.services().settings.model_refresh_seconds
        registry = composition.services().model_registry
        admin = mint("agent", "bench-admin", role="admin")
        trained, live = [], []
        with connect(f"{urls['ws']}/?token={mint('customer', 'bench-kb-sync')}") as ws:
            asked = 0
            for edit in range(1, args.edits + 1):
                answer = f"Edit {edit}: we are open 9:{edit:02d}-21:00 every day."
                t0 = time.monotonic()
                version = _put_answer(urls["http"], admin, answer)
                seen_trained = None
                while True:
                    if seen_trained is None and (p := registry.pointer(consistent=True)) and p.version >= version:
                        seen_trained = time.monotonic() - t0
                    asked += 1
                    if _ask(ws, asked) == answer:
                        break
                    if time.monotonic() - t0 > 300:
                        raise SystemExit(f"edit {edit} not live after 300 s")
                    time.sleep(0.25)
                elapsed = time.monotonic() - t0
                trained.append(seen_trained if seen_trained is not None else elapsed)
                live.append(elapsed)
                print(f"edit {edit} (kb v{version}): model published after {trained[-1]:5.1f} s, "
                      f"bot answers with it after {elapsed:5.1f} s", flush=True)
        print(f"\nedit-to-live on the local stack ({args.edits} edits, sample KB of 17 intents, pointer refresh "
              f"{refresh:g} s): median {statistics.median(live):.1f} s (max {max(live):.1f} s); "
              f"of which training + publishing median {statistics.median(trained):.1f} s", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
