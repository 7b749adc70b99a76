"""What a newcomer following README hits with the CLIs and the local stack, each fixed and kept so."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from chalicelib.cli import local_stack, main
from chalicelib.cli.kb import default_api


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variables, no credentials files, and no local stack file."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_") or name in ("ANALYTICS_BUCKET_NAME", "KB_API", "HTTP_PORT"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    missing = tmp_path / "stack.json"
    monkeypatch.setattr(local_stack, "STACK_FILE", missing)
    return missing


@pytest.mark.parametrize("command", [["kpis", "--from", "2026-11-01", "--to", "2026-11-30"],
                                     ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "r.html"],
                                     ["forecast", "--days", "7"]])
def test_without_aws_or_a_local_stack_the_cli_says_what_to_set(no_aws, capsys, command):
    assert main([*command, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4566" in err and "ANALYTICS_BUCKET_NAME" in err and "--data" in err
    assert "Traceback" not in err


def test_cli_finds_the_running_local_stack_and_reports_an_empty_period(no_aws, aws_server, moto_server,
                                                                       monkeypatch, tmp_path, capsys):
    import os

    bucket = os.environ["ANALYTICS_BUCKET_NAME"]
    resolved = bucket.replace("{account_id}", "123456789012").replace("{region}", "us-east-1")
    for name in list(os.environ):  # the shell of a newcomer: nothing set
        if name.startswith("AWS_") or name == "ANALYTICS_BUCKET_NAME":
            monkeypatch.delenv(name)
    local_stack.write_stack({"aws": moto_server, "region": "us-east-1", "bucket": resolved}, no_aws)
    out = tmp_path / "report.html"
    assert main(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out), "--no-progress",
                 "--forecast-days", "0"]) == 0
    assert "no data" in out.read_text()
    assert main(["kpis", "--from", "2026-11-01", "--to", "2026-11-02", "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["volume_by_channel"] == []


def test_a_stale_stack_file_is_not_trusted(no_aws, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    local_stack.write_stack({"aws": f"http://127.0.0.1:{dead}", "region": "us-east-1", "bucket": "b"}, no_aws)
    with pytest.raises(local_stack.NotConfigured):
        local_stack.resolve_target(None, {}, no_aws)


def test_missing_data_directory_is_one_line(no_aws, capsys, tmp_path):
    assert main(["kpis", "--from", "2026-11-01", "--to", "2026-11-02", "--data", str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_invalid_dates_are_one_line(no_aws, capsys, tmp_path):
    assert main(["kpis", "--from", "2026-11-30", "--to", "2026-11-01", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "'to' must be after 'from'" in err and "Traceback" not in err


def test_kb_cli_honours_http_port():
    assert default_api({"HTTP_PORT": "18000"}) == "http://127.0.0.1:18000"
    assert default_api({}) == "http://127.0.0.1:8000"
    assert default_api({"KB_API": "https://api.example.com", "HTTP_PORT": "1"}) == "https://api.example.com"


def test_kb_cli_names_the_url_it_cannot_reach(no_aws, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["kb", "status", "--api", f"http://127.0.0.1:{port}", "--token", "t"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach http://127.0.0.1:{port}/kb" in err and "Traceback" not in err


def test_kb_import_of_a_missing_file_is_one_line(no_aws, capsys, tmp_path):
    assert main(["kb", "import", str(tmp_path / "missing.json"), "--token", "t"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_devserver_names_the_port_that_is_taken():
    from local.devserver import taken_ports

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert taken_ports("127.0.0.1", {"HTTP_PORT": port, "WS_PORT": 0}) == {"HTTP_PORT": port}


def test_pollers_stopping_logs_no_tracebacks(caplog):
    from local.pollers import Pollers

    class Session:
        region_name = "us-east-1"

    pollers: Any = Pollers(None, Session(), "local")
    caplog.set_level(logging.INFO, logger="local.pollers")
    pollers.stop()  # no threads were started: this only marks it stopping
    try:
        raise ConnectionRefusedError("moto is gone")
    except ConnectionRefusedError:
        pollers.log_failure("SQS handler %s failed", "train_model")
    assert caplog.records[-1].exc_info is None and "while stopping" in caplog.records[-1].getMessage()
