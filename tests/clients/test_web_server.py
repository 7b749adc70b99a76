"""local/web.py: the static server of the local stack (mount table, config, no listing, no traversal)."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.web import MOUNTS, Mount, WebServer, resolve


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "app.js").write_text("export {}")
    (root / "style.css").write_text("body{}")
    (root / "data.json").write_text("{}")
    (root / "logo.svg").write_text("<svg/>")
    (root / "blob.bin").write_bytes(b"\x00\x01")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    return root


@pytest.fixture
def server(site: Path) -> Iterator[WebServer]:
    web = WebServer("127.0.0.1", 0, {"api": "http://127.0.0.1:1", "ws": "ws://127.0.0.1:2"},
                    mounts=(Mount("/", site), Mount("/missing/", site.parent / "nope")),
                    demo_token=lambda customer_id: f"token-for-{customer_id}").start()
    yield web
    web.stop()


def request(server: WebServer, path: str, method: str = "GET", body: str | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    # http.client would not send some of these paths as given; putrequest sends them verbatim
    conn.putrequest(method, path, skip_accept_encoding=True)
    payload = (body or "").encode()
    conn.putheader("Content-Length", str(len(payload)))
    conn.endheaders(payload)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.mark.parametrize(("path", "content_type"), [
    ("/", "text/html; charset=utf-8"), ("/index.html", "text/html; charset=utf-8"),
    ("/app.js", "text/javascript; charset=utf-8"), ("/style.css", "text/css; charset=utf-8"),
    ("/data.json", "application/json"), ("/logo.svg", "image/svg+xml"), ("/blob.bin", "application/octet-stream"),
    ("/docs/", "text/html; charset=utf-8"),
])
def test_files_are_served_with_their_content_type(server: WebServer, path: str, content_type: str) -> None:
    status, headers, _ = request(server, path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"


def test_directory_without_slash_redirects_and_without_index_is_not_listed(server: WebServer) -> None:
    status, headers, _ = request(server, "/docs?x=1")
    assert status == 301
    assert headers["location"] == "/docs/?x=1"
    assert request(server, "/empty/")[0] == 404
    assert request(server, "/nothing-here.js")[0] == 404


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/docs/%2E%2E/%2e%2e/secret.txt",
    "/..%2fsecret.txt", "/docs%2f..%2f..%2fsecret.txt", "/..%5csecret.txt", "/docs\\..\\..\\secret.txt",
    "/escape.txt", "/.env", "/%2eenv", "/app.js%00.html", "/%ff%fe", "//etc/passwd", "/etc/passwd",
])
def test_path_traversal_and_hidden_files_are_not_found(server: WebServer, path: str) -> None:
    status, _, body = request(server, path)
    assert status == 404, path
    assert b"outside" not in body and b"SECRET" not in body


def test_head_answers_headers_only(server: WebServer) -> None:
    status, headers, body = request(server, "/app.js", method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == "9"


def test_a_mount_whose_folder_does_not_exist_answers_404(server: WebServer) -> None:
    assert request(server, "/missing/")[0] == 404
    assert request(server, "/missing/index.html")[0] == 404


def test_config_json_exposes_the_stack_urls(server: WebServer) -> None:
    status, headers, body = request(server, "/config.json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"api": "http://127.0.0.1:1", "ws": "ws://127.0.0.1:2"}


def test_demo_token_for_a_new_or_known_demo_customer_only(server: WebServer) -> None:
    status, _, body = request(server, "/demo/token", method="POST")
    issued = json.loads(body)
    assert status == 200 and issued["customer_id"].startswith("demo_")
    assert issued["token"] == f"token-for-{issued['customer_id']}"
    status, _, body = request(server, "/demo/token", "POST", json.dumps({"customer_id": issued["customer_id"]}))
    assert status == 200 and json.loads(body)["customer_id"] == issued["customer_id"]
    for bad in ('{"customer_id": "alice"}', '{"customer_id": 5}', "not json", '{"customer_id": "demo_x"}'):
        status, _, body = request(server, "/demo/token", "POST", bad)
        assert status == 400 and json.loads(body)["code"] == "invalid_customer_id"
    assert request(server, "/index.html", "POST")[0] == 405


def test_demo_tokens_are_off_unless_the_stack_provides_them(site: Path) -> None:
    web = WebServer("127.0.0.1", 0, {}, mounts=(Mount("/", site),)).start()
    try:
        assert request(web, "/demo/token", "POST")[0] == 404
    finally:
        web.stop()


def test_the_repository_mount_table() -> None:
    prefixes = {m.prefix: m.directory.relative_to(Path(__file__).resolve().parents[2]).as_posix() for m in MOUNTS}
    assert prefixes == {"/": "clients/demo", "/widget/": "clients/widget/dist", "/sdk/": "clients/js/dist",
                        "/sdk/src/": "clients/js/src", "/console/": "clients/console",
                        "/console/sdk/": "clients/js/src"}
    assert resolve("/") is not None and resolve("/").name == "index.html"
    # the console imports the SDK's socket machinery from its own origin (its symlink is not followed)
    root = Path(__file__).resolve().parents[2]
    assert resolve("/console/sdk/connection.js") == root / "clients" / "js" / "src" / "connection.js"
    assert resolve("/sdk/src/backoff.js") is not None
    assert resolve("/sdk/src/../package.json") is None
