"""``kb`` command group: import and export the bot's knowledge base through the REST API.

    python -m chalicelib.cli kb import FILE.json|FILE.csv [--answers FAQ.csv] [--replace] --api URL --token T
    python -m chalicelib.cli kb export [--format json|examples_csv|answers_csv] [--out FILE] --api URL --token T
    python -m chalicelib.cli kb status --api URL --token T
    python -m chalicelib.cli kb misses [--from DATE --to DATE] [--json] --api URL --token T
    python -m chalicelib.cli kb misses --assign CLUSTER --intent NAME [--answer-zh T --answer-en T] [--text T ...]

It talks to the deployed (or local) API rather than to the table, so imports are authorised (an
admin or supervisor token: ``python -m local.token agent ada --role admin`` locally), versioned and
followed by retraining exactly as edits made any other way. ``--api`` defaults to ``$KB_API`` or the
local stack (http://127.0.0.1:$HTTP_PORT, 8000 by default), ``--token`` to ``$KB_TOKEN``. A CSV file is
the examples file ``text,label``; the answers file ``intent,answer_zh,answer_en`` comes with ``--answers``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .progress import ProgressBar

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = subparsers.add_parser("kb", help="knowledge base import / export (REST API)")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="SUBCOMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--api", default=default_api(), help="REST API base URL (default: $KB_API, else the "
                       "local stack on $HTTP_PORT or 8000)")
        p.add_argument("--token", default=os.environ.get("KB_TOKEN"), help="agent JWT (admin/supervisor to write)")

    imp = kb_sub.add_parser("import", help="import a KB JSON, or examples (+ answers) CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--answers", type=Path, help="answers CSV intent,answer_zh,answer_en (with a CSV file)")
    imp.add_argument("--replace", action="store_true", help="delete the entries the file does not list")
    imp.add_argument("--wait", action="store_true", help="wait until the retrained model is live")
    imp.add_argument("--timeout", type=float, default=300, help="seconds to --wait at most")
    common(imp)
    imp.set_defaults(handler=run_import)

    exp = kb_sub.add_parser("export", help="export the KB")
    exp.add_argument("--format", choices=("json", "examples_csv", "answers_csv"), default="json")
    exp.add_argument("--out", type=Path, help="file to write (default: stdout)")
    common(exp)
    exp.set_defaults(handler=run_export)

    st = kb_sub.add_parser("status", help="KB version and the live model's version")
    common(st)
    st.set_defaults(handler=run_status)

    # -- issue 14: the missed questions, grouped by meaning, and turning a group into KB examples
    mi = kb_sub.add_parser("misses", help="missed questions grouped by meaning; --assign adds a group to an intent")
    mi.add_argument("--from", dest="start", help="first day (ISO date or date-time, UTC; default: 7 days ago)")
    mi.add_argument("--to", dest="end", help="last day, included (default: now)")
    mi.add_argument("--limit", type=int, default=20, help="groups to list")
    mi.add_argument("--examples", type=int, default=3, help="example texts shown per group")
    mi.add_argument("--json", action="store_true", help="print the API's JSON")
    mi.add_argument("--assign", metavar="CLUSTER", help="add this group's texts as examples of --intent")
    mi.add_argument("--intent", help="the intent to add them to (created when new: give an answer)")
    mi.add_argument("--answer-zh", help="answer of a new intent in Chinese")
    mi.add_argument("--answer-en", help="answer of a new intent in English")
    mi.add_argument("--text", action="append", help="only these texts of the group (repeatable)")
    common(mi)
    mi.set_defaults(handler=run_misses)


def default_api(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    return env.get("KB_API") or f"http://127.0.0.1:{env.get('HTTP_PORT') or 8000}"


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status


def call(api: str, token: str | None, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(f"{api.rstrip('/')}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        raise ApiError(exc.code, exc.read().decode("utf-8", "replace")) from exc
    except urllib.error.URLError as exc:
        raise ConnectionError(f"cannot reach {request.full_url}: {exc.reason}") from exc


def _fail(command: str, exc: Exception) -> int:
    sys.stderr.write(f"kb {command}: {exc}\n")
    return 1


def run_import(args: argparse.Namespace) -> int:
    text = args.file.read_text(encoding="utf-8-sig")
    if args.file.suffix.lower() == ".csv":
        answers = args.answers.read_text(encoding="utf-8-sig") if args.answers else None
        path, body = "/kb/import/csv", {"examples_csv": text, "answers_csv": answers, "replace": args.replace}
    else:
        if args.answers:
            sys.stderr.write("kb import: --answers goes with an examples CSV, not with JSON\n")
            return 2
        path, body = "/kb/import", {**json.loads(text), "replace": args.replace}
    bar = ProgressBar()
    bar("uploading", 0.0)
    try:
        _, raw = call(args.api, args.token, "POST", path, body)
    except (ApiError, OSError) as exc:
        bar.close()
        return _fail("import", exc)
    bar("uploading", 1.0)
    result = json.loads(raw)
    if args.wait and result.get("training_queued"):
        started = time.monotonic()
        while time.monotonic() - started < args.timeout:
            _, raw = call(args.api, args.token, "GET", "/kb")
            model = json.loads(raw).get("model") or {}
            bar("training", min(0.95, (time.monotonic() - started) / 60))
            if model.get("version", 0) >= result["version"]:
                bar("training", 1.0)
                result["live_after_seconds"] = round(time.monotonic() - started, 1)
                break
            time.sleep(1)
        else:
            bar.close()
            sys.stderr.write(f"kb import: model v{result['version']} not live after {args.timeout:.0f} s\n")
            print(json.dumps(result))
            return 1
    bar.close()
    print(json.dumps(result))
    return 0


def run_export(args: argparse.Namespace) -> int:
    try:
        _, raw = call(args.api, args.token, "GET", f"/kb/export?format={args.format}")
    except (ApiError, OSError) as exc:
        return _fail("export", exc)
    if args.out:
        args.out.write_bytes(raw)
        sys.stderr.write(f"wrote {args.out} ({len(raw)} bytes)\n")
    else:
        sys.stdout.write(raw.decode("utf-8"))
    return 0


def run_status(args: argparse.Namespace) -> int:
    try:
        _, raw = call(args.api, args.token, "GET", "/kb")
    except (ApiError, OSError) as exc:
        return _fail("status", exc)
    data = json.loads(raw)
    print(json.dumps({"version": data["version"], "intents": len(data["intents"]), "model": data["model"]}))
    return 0


def _misses_period(args: argparse.Namespace) -> dict[str, str]:
    return {k: v for k, v in (("from", args.start), ("to", args.end)) if v}


def run_misses(args: argparse.Namespace) -> int:
    """``kb misses``: list the groups of missed questions, or ``--assign`` one to an intent."""
    from urllib.parse import quote, urlencode

    if args.assign:
        if not args.intent:
            sys.stderr.write("kb misses: --assign needs --intent\n")
            return 2
        body: dict[str, Any] = {**_misses_period(args), "intent": args.intent}
        answers = {k: v for k, v in (("zh", args.answer_zh), ("en", args.answer_en)) if v}
        if answers:
            body["answers"] = answers
        if args.text:
            body["texts"] = args.text
        try:
            _, raw = call(args.api, args.token, "POST", f"/kb/misses/{quote(args.assign, safe='')}/assign", body)
        except (ApiError, OSError) as exc:
            return _fail("misses", exc)
        print(raw.decode("utf-8"))
        return 0
    query = urlencode({**_misses_period(args), "limit": max(1, args.limit)})
    try:
        _, raw = call(args.api, args.token, "GET", f"/kb/misses?{query}")
    except (ApiError, OSError) as exc:
        return _fail("misses", exc)
    data = json.loads(raw)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['misses']} missed questions {data['from'][:16]} .. {data['to'][:16]}, "
          f"{len(data['clusters'])} groups{' (more)' if data.get('more') else ''}")
    for c in data["clusters"]:
        kinds = ", ".join(f"{k} {n}" for k, n in c["kinds"].items())
        guessed = ", ".join(c["guessed_intents"]) or "-"
        languages = ", ".join(c["languages"])
        print(f"\n{c['id']}  {c['count']:>4} x  ({kinds}; languages {languages}; bot guessed {guessed})")
        for text in c["examples"][: max(0, args.examples)]:
            print(f"    - {text}")
        if c.get("kb_answer_intents"):
            print(f"    agents answered with: {', '.join(c['kb_answer_intents'])}")
    return 0
