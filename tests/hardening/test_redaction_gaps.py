"""Class 7 (issue 13): personal data that slipped past redaction, and the local REST access log."""

from __future__ import annotations

import contextlib
import io
import sys
from urllib.request import urlopen

import pytest

from chalicelib.analytics.redact import redact_text


@pytest.mark.parametrize(("text", "expected"), [
    ("请发到alice.w@example.com谢谢", "请发到[EMAIL]谢谢"),
    ("邮箱：bob+cs@mail.example.cn", "邮箱：[EMAIL]"),
    ("我的手机１３８００１３８０００", "我的手机[PHONE]"),
    ("电话：＋８６ １３８ ００１３ ８０００，谢谢", "电话：[PHONE]，谢谢"),
    ("call +8613800138000 or 电话+4915123456789", "call [PHONE] or 电话[PHONE]"),
    ("ｍｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[EMAIL]"),
    ("订单１２３４５６７８９０１２３４５６６号", None),  # not Luhn-valid: an order number stays as typed
])
def test_email_after_chinese_and_full_width_numbers_are_redacted(text, expected):
    assert redact_text(text) == (text if expected is None else expected)


def test_redaction_leaves_other_full_width_text_as_written():
    text = "订单号：ＡＢ１２３，金额１２０元。"
    assert redact_text(text) == text


def test_local_rest_access_log_prints_no_query_values():
    from chalice import Chalice

    from local.devserver import LocalStack

    app = Chalice(app_name="access-log-probe")

    @app.route("/customers/lookup")
    def lookup():
        return {"ok": True}

    stack = LocalStack("127.0.0.1", 0, 0, 0, 0)
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        port = stack.start_rest(app)
        try:
            with urlopen(f"http://127.0.0.1:{port}/customers/lookup?channel=whatsapp&external_id=8613800138000"
                         "&email=alice%40example.com", timeout=30) as response:
                assert response.status == 200
        finally:
            stack.stop()
    log = captured.getvalue()
    sys.stderr.write(log)
    assert "/customers/lookup" in log
    assert "8613800138000" not in log and "alice" not in log
