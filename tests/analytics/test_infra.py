"""infra/analytics.yaml is generated from the KPI SQL files, up to date, and passes cfn-lint."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from chalicelib.analytics.events import COLUMNS
from chalicelib.analytics.kpis import load_sql, query_names

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_analytics", ROOT / "infra" / "gen_analytics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix}")


def test_template_is_up_to_date() -> None:
    assert _generator().render() == (ROOT / "infra" / "analytics.yaml").read_text(), (
        "run: .venv/bin/python infra/gen_analytics.py"
    )


def test_template_contains_every_kpi_sql_verbatim() -> None:
    doc = yaml.load((ROOT / "infra" / "analytics.yaml").read_text(), Loader=_CfnLoader)
    resources = doc["Resources"]
    queries = {k: v for k, v in resources.items() if v["Type"] == "AWS::Athena::NamedQuery"}
    assert len(queries) == len(query_names())
    bodies = [q["Properties"]["QueryString"] for q in queries.values()]
    for name in query_names():
        assert sum(load_sql(name).rstrip() in body for body in bodies) == 1, name
    table = resources["InteractionEventsTable"]["Properties"]["TableInput"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == list(COLUMNS)
    assert table["Parameters"]["projection.enabled"] == "true"
    assert set(doc["Parameters"]) >= {"AppName", "Stage", "AnalyticsBucketName"}


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "cfn-lint").exists() and not shutil.which("cfn-lint"),
    reason="cfn-lint not installed",
)
def test_cfn_lint() -> None:
    exe = ROOT / ".venv" / "bin" / "cfn-lint"
    cmd = [str(exe) if exe.exists() else "cfn-lint", str(ROOT / "infra" / "analytics.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
