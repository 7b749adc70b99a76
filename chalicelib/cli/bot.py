"""``bot`` command group: ``bot evaluate`` measures the NLU engine, handoff and sentiment rules; ``bot train``.

``bot evaluate --train TRAIN.csv --test TEST.csv [--answers FAQ.csv]`` trains a model (FAQ answers,
if given, are added as extra examples of their intent), round-trips it through its byte artifact
and classifies every test row one at a time, reporting accuracy, macro-F1, in-scope accuracy, OOS
recall/precision (rows labelled ``oos``), latency percentiles, artifact size and training time.
``--task handoff`` and ``--task sentiment`` score the rule-based detectors on labelled CSVs.
With ``--json`` exactly one JSON object is printed to stdout; progress goes to stderr.

``bot train --kb FILE.json | --examples TRAIN.csv [--answers FAQ.csv] --out model.bin`` trains the
artifact the trainer function would publish (the KB's answers and quick-reply titles inside it).
"""

from __future__ import annotations

import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .progress import ProgressBar

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from chalicelib.bot.nlu.arrays import Labels
    from chalicelib.bot.nlu.judgement.heads import Features
    from chalicelib.bot.nlu.trainer import TrainConfig

OOS = "oos"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bot`` command group to the top-level parser."""
    bot = subparsers.add_parser("bot", help="customer-service bot tools")
    bot_sub = bot.add_subparsers(dest="bot_command", required=True, metavar="SUBCOMMAND")
    ev = bot_sub.add_parser("evaluate", help="train on a CSV and evaluate on another")
    ev.add_argument("--task", choices=("intent", "handoff", "sentiment"), default="intent")
    ev.add_argument("--train", type=Path, help="CSV text,label (intent task); with --cv for any task")
    ev.add_argument("--rules-only", action="store_true",
                    help="handoff/sentiment: score the rules alone, without the learned heads")
    ev.add_argument("--test", type=Path, help="CSV to evaluate on (or --cv K on the training file)")
    ev.add_argument("--cv", type=int, metavar="K",
                    help="stratified K-fold cross-validation on the training file instead of a test file "
                         "(handoff/sentiment: on --train, default the shipped training set)")
    ev.add_argument("--seed", type=int, default=0, help="seed of the --cv folds")
    ev.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="intent task: override a training hyper-parameter (TrainConfig field), repeatable")
    ev.add_argument("--answers", type=Path, help="FAQ CSV intent,answer_*: answers become examples")
    ev.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    ev.set_defaults(handler=run_evaluate)
    tr = bot_sub.add_parser("train", help="train a model artifact from a KB JSON or CSV files")
    source = tr.add_mutually_exclusive_group(required=True)
    source.add_argument("--kb", type=Path, help="knowledge base JSON (the format of GET /kb/export)")
    source.add_argument("--examples", type=Path, help="CSV text,label")
    tr.add_argument("--answers", type=Path, help="FAQ CSV intent,answer_zh,answer_en (with --examples)")
    tr.add_argument("--out", type=Path, required=True, help="where to write the model artifact (.bin)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    tr.set_defaults(handler=run_train)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV with a header (BOM tolerated)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_examples(path: Path) -> list[tuple[str, str]]:
    return [(r["text"], r["label"]) for r in read_rows(path)]


def read_answers(path: Path) -> list[tuple[str, str]]:
    """Every non-empty answer column of a FAQ CSV as an example of its ``intent``."""
    out = []
    for row in read_rows(path):
        intent = row.get("intent", "").strip()
        for key, value in row.items():
            if key and key != "intent" and key.startswith("answer") and value and value.strip():
                out.append((value.strip(), intent))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def classification_report(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    """Per-label precision, recall, F1 and support over the gold labels."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    report = {}
    for label in sorted(set(gold)):
        prec = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        rec = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        report[label] = {"precision": prec, "recall": rec, "f1": f1, "support": tp[label] + fn[label]}
    return report


def intent_metrics(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Accuracy (``oos`` as a class), macro-F1, in-scope accuracy and OOS recall/precision."""
    n = len(gold)
    per = classification_report(gold, pred)
    in_rows = [(g, p) for g, p in zip(gold, pred, strict=True) if g != OOS]
    has_oos = any(g == OOS for g in gold)
    oos_tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == OOS and p == OOS)
    return {
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / n if n else 0.0,
        "macro_f1": sum(v["f1"] for v in per.values()) / len(per) if per else 0.0,
        "in_scope_accuracy": _ratio(sum(g == p for g, p in in_rows), len(in_rows)),
        "oos_recall": _ratio(oos_tp, sum(g == OOS for g in gold)) if has_oos else None,
        "oos_precision": (_ratio(oos_tp, sum(p == OOS for p in pred)) or 0.0) if has_oos else None,
        "per_intent": per,
    }


def evaluate_intents(args: argparse.Namespace, bar: ProgressBar | None) -> dict[str, Any]:
    from chalicelib.bot.nlu import NluModel, train

    examples = read_examples(args.train)
    if args.answers:
        examples += read_answers(args.answers)
    test = read_examples(args.test)
    started = time.perf_counter()
    model = train(examples, progress=bar)
    train_seconds = time.perf_counter() - started
    blob = model.to_bytes()
    model = NluModel.from_bytes(blob)
    model.predict("warm up")  # loads the encoder; not part of the per-query latency
    gold, pred, latencies = [], [], []
    for k, (text, label) in enumerate(test):
        t0 = time.perf_counter()
        p = model.predict(text)
        latencies.append((time.perf_counter() - t0) * 1000)
        gold.append(label)
        pred.append(p.intent if p.intent is not None else OOS)
        if bar and (k % 25 == 0 or k == len(test) - 1):
            bar("predicting", (k + 1) / len(test))
    result = intent_metrics(gold, pred)
    confused = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    result.update(
        p50_ms=round(_percentile(latencies, 0.50), 3),
        p99_ms=round(_percentile(latencies, 0.99), 3),
        artifact_bytes=len(blob),
        train_seconds=round(train_seconds, 3),
        confused=[[g, p, c] for (g, p), c in confused.most_common(15)],
    )
    return result


def stratified_folds(labels: list[str], k: int, seed: int = 0) -> list[list[int]]:
    """Row indices of ``k`` folds, each label spread evenly over them (shuffled with ``seed``)."""
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        offset = rng.randrange(k)
        for pos, i in enumerate(rows):
            folds[(pos + offset) % k].append(i)
    return [sorted(f) for f in folds]


def _train_config(args: argparse.Namespace, n_examples: int) -> TrainConfig:
    """The engine's default config for this data size, with the ``--set NAME=VALUE`` overrides."""
    import dataclasses

    from chalicelib.bot.nlu.trainer import default_config

    cfg = default_config(n_examples)
    changes: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    for item in args.set or []:
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"bot evaluate: unknown --set {name!r}; known: {', '.join(sorted(fields))}")
        kind = type(getattr(cfg, name))
        changes[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return dataclasses.replace(cfg, **changes)


def cross_validate_intents(args: argparse.Namespace, bar: ProgressBar | None) -> dict[str, Any]:
    """``--cv K``: train on K-1 folds of the training file (plus ``--answers``), predict the held-out fold."""
    from chalicelib.bot.nlu import train

    examples = read_examples(args.train)
    answers = read_answers(args.answers) if args.answers else []
    folds = stratified_folds([label for _, label in examples], args.cv, args.seed)
    gold: list[str] = []
    pred: list[str] = []
    started = time.perf_counter()
    for f, held in enumerate(folds):
        held_set = set(held)
        rest = [ex for i, ex in enumerate(examples) if i not in held_set] + answers
        model = train(rest, config=_train_config(args, len(rest)),
                      progress=_labelled(bar, f"fold {f + 1}/{len(folds)}"))
        texts = [examples[i][0] for i in held]
        for i, p in zip(held, model.predict_many(texts), strict=True):
            gold.append(examples[i][1])
            pred.append(p.intent if p.intent is not None else OOS)
    result = intent_metrics(gold, pred)
    confused = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    result.update(folds=len(folds), train_seconds=round(time.perf_counter() - started, 3),
                  confused=[[g, p, c] for (g, p), c in confused.most_common(15)])
    return result


def _labelled(bar: ProgressBar | None, label: str) -> Callable[[str, float], None] | None:
    """``bar`` with ``label`` before each stage's name (``None`` without a bar)."""
    if bar is None:
        return None
    return lambda stage, fraction: bar(f"{label} {stage}", fraction)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _judgement_rows(args: argparse.Namespace, task: str) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(training rows, rows to score) of a handoff or sentiment evaluation; with ``--cv`` the second is empty."""
    from chalicelib.bot.nlu.judgement import heads

    column = "expect_handoff" if task == "handoff" else "sentiment"

    def parse(path: Path) -> list[tuple[str, Any]]:
        rows = read_rows(path)
        if task == "handoff":
            return [(r["text"], int(_truthy(r[column]))) for r in rows]
        return [(r["text"], heads.SENTIMENT_LABELS.index(r[column].strip())) for r in rows]

    if args.train is not None:
        train_rows = parse(args.train)
    else:
        train_rows = heads.handoff_examples() if task == "handoff" else heads.sentiment_examples()
    return train_rows, (parse(args.test) if args.test else [])


def _judge_rows(task: str, rows: list[tuple[str, Any]], train_rows: list[tuple[str, Any]] | None,
                features: Features | None) -> list[Any]:
    """Predictions (bool for handoff, a label index for sentiment) of rules plus heads fitted on ``train_rows``."""
    from chalicelib.bot.nlu.judgement import heads, judge

    texts = [t for t, _ in rows]
    if train_rows is None or features is None:  # rules only (features are built unless --rules-only)
        if task == "handoff":
            return [judge.wants_human(t, None, 0.5) for t in texts]
        return [heads.SENTIMENT_LABELS.index(judge.sentiment(t, None).label) for t in texts]
    train_texts = [t for t, _ in train_rows]
    head = heads.fit_head(task, train_texts, features(train_texts), _array([y for _, y in train_rows]))
    probs = head.probs(texts, features(texts))
    if task == "handoff":
        return [judge.wants_human(t, float(p[1]), heads.HANDOFF_THRESHOLD) for t, p in zip(texts, probs, strict=True)]
    return [heads.SENTIMENT_LABELS.index(judge.sentiment(t, p).label) for t, p in zip(texts, probs, strict=True)]


def _array(values: list[int]) -> Labels:
    import numpy as np

    return np.asarray(values, dtype=np.int64)


def evaluate_judgement(args: argparse.Namespace, task: str) -> dict[str, Any]:
    """Handoff or sentiment: rules plus learned heads (``--rules-only``: rules alone), on ``--test`` or ``--cv``."""
    train_rows, test_rows = _judgement_rows(args, task)
    features = None
    if not args.rules_only:
        from chalicelib.bot.nlu.judgement.heads import centred_features

        features = centred_features()
    if args.cv:
        folds = stratified_folds([str(y) for _, y in train_rows], args.cv, args.seed)
        scored: list[tuple[str, Any]] = []
        pred: list[Any] = []
        for held in folds:
            held_set = set(held)
            rest = [r for i, r in enumerate(train_rows) if i not in held_set]
            rows = [train_rows[i] for i in held]
            pred += _judge_rows(task, rows, None if args.rules_only else rest, features)
            scored += rows
    else:
        scored = test_rows
        pred = _judge_rows(task, scored, None if args.rules_only else train_rows, features)
    if task == "handoff":
        return handoff_metrics([t for t, _ in scored], [bool(y) for _, y in scored], pred)
    from chalicelib.bot.nlu.judgement.heads import SENTIMENT_LABELS

    return sentiment_metrics([t for t, _ in scored], [SENTIMENT_LABELS[y] for _, y in scored],
                             [SENTIMENT_LABELS[p] for p in pred])


def handoff_metrics(texts: list[str], gold: list[bool], pred: list[bool]) -> dict[str, Any]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    prec = tp / sum(pred) if sum(pred) else 0.0
    rec = tp / sum(gold) if sum(gold) else 0.0
    errors = [[t, int(g)] for t, g, p in zip(texts, gold, pred, strict=True) if g != p]
    return {
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "errors": errors,
    }


def sentiment_metrics(texts: list[str], gold: list[str], pred: list[str]) -> dict[str, Any]:
    neg = [p for g, p in zip(gold, pred, strict=True) if g == "negative"]
    errors = [[t, g, p] for t, g, p in zip(texts, gold, pred, strict=True) if g != p]
    return {
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0,
        "negative_recall": (sum(p == "negative" for p in neg) / len(neg)) if neg else None,
        "errors": errors,
    }


_CV_INTENT_KEYS = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "folds",
                   "train_seconds")
_JSON_KEYS = {
    "intent": ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision",
               "p50_ms", "p99_ms", "artifact_bytes", "train_seconds"),
    "handoff": ("precision", "recall", "f1"),
    "sentiment": ("accuracy", "negative_recall"),
}


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def print_report(task: str, result: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Human-readable report on stdout."""
    out = sys.stdout
    out.write(f"== {task} evaluation ==\n")
    for key in keys:
        out.write(f"{key:>18}: {_fmt(result[key])}\n")
    if task == "intent":
        out.write("\nper intent (precision / recall / f1 / support):\n")
        for label, m in sorted(result["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
            out.write(f"  {label:<36} {m['precision']:.3f}  {m['recall']:.3f}  {m['f1']:.3f}  "
                      f"{m['support']}\n")
        out.write("\nmost confused (gold -> predicted: count):\n")
        for g, p, c in result["confused"]:
            out.write(f"  {g} -> {p}: {c}\n")
    elif result.get("errors"):
        out.write("\nerrors:\n")
        for err in result["errors"]:
            out.write("  " + " | ".join(str(e) for e in err) + "\n")


def run_evaluate(args: argparse.Namespace) -> int:
    if args.task == "intent" and args.train is None:
        sys.stderr.write("bot evaluate: --train is required for the intent task\n")
        return 2
    if (args.test is None) == (args.cv is None):
        sys.stderr.write("bot evaluate: give exactly one of --test FILE and --cv K\n")
        return 2
    if args.cv is not None and args.cv < 2:
        sys.stderr.write("bot evaluate: --cv needs K >= 2\n")
        return 2
    bar = None if args.no_progress else ProgressBar()
    if args.task == "intent":
        result = cross_validate_intents(args, bar) if args.cv else evaluate_intents(args, bar)
    else:
        result = evaluate_judgement(args, args.task)
    if bar:
        bar.close()
    keys = _CV_INTENT_KEYS if args.task == "intent" and args.cv else _JSON_KEYS[args.task]
    if args.json:
        json.dump({k: result[k] for k in keys}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print_report(args.task, result, keys)
    return 0


def run_train(args: argparse.Namespace) -> int:
    """``bot train``: the same training as the trainer function (KB answers travel in the artifact)."""
    from chalicelib.bot import kb_io
    from chalicelib.bot.kb import Intent, Snapshot
    from chalicelib.bot.training import train_snapshot
    from chalicelib.errors import DomainError

    try:
        if args.kb:
            document = kb_io.from_json(args.kb.read_text(encoding="utf-8"))
        else:
            answers = args.answers.read_text(encoding="utf-8") if args.answers else None
            document = kb_io.from_csv(args.examples.read_text(encoding="utf-8"), answers)
    except DomainError as exc:
        sys.stderr.write(f"bot train: {exc.message} {json.dumps(exc.details, ensure_ascii=False) or ''}\n")
        return 2
    version = document.version or 0
    snapshot = Snapshot(version, [Intent(name=n, kb_version=version, **b.model_dump())
                                  for n, b in document.intents.items()])
    if not snapshot.training_examples():
        sys.stderr.write("bot train: the knowledge base has no enabled entries\n")
        return 2
    bar = None if args.no_progress else ProgressBar()
    started = time.perf_counter()
    model = train_snapshot(snapshot, progress=bar)
    blob = model.to_bytes()
    if bar:
        bar.close()
    args.out.write_bytes(blob)
    seconds = time.perf_counter() - started
    sys.stdout.write(f"wrote {args.out} ({len(blob)} bytes): {len(snapshot.enabled())} intents, "
                     f"{len(snapshot.training_examples())} training texts (example questions, answers, titles), "
                     f"trained in {seconds:.1f} s\n")
    return 0
