"""Redaction rules, checksums, false-positive guards, pseudonyms and the redacting log formatter."""

from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib.analytics.redact import (
    RedactingFormatter,
    Redactor,
    card_valid,
    cn_id15_valid,
    cn_id18_valid,
    luhn_valid,
    pseudonymise,
    redact_text,
)


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "138-1234-5678",
        "手机15800001111请回电",
    ],
)
def test_chinese_mobile(text: str) -> None:
    out = redact_text(f"call {text} now")
    assert "[PHONE]" in out and "1234" not in out and "0001111" not in out


@pytest.mark.parametrize("text", ["+44 20 7946 0958", "+1 (415) 555-2671", "+4915112345678"])
def test_international_phone(text: str) -> None:
    assert redact_text(f"tel {text}.") == "tel [PHONE]."


def test_email() -> None:
    assert redact_text("mail a.b+c@example.co.uk, or X_Y@mail-host.cn") == "mail [EMAIL], or [EMAIL]"


def test_resident_id_checksum() -> None:
    assert cn_id18_valid("11010519491231002X")
    assert cn_id18_valid("11010519491231002x")
    assert not cn_id18_valid("110105194912310021")  # wrong check character
    assert not cn_id18_valid("99010519491231002X")  # unknown region
    assert redact_text("ID 11010519491231002X ok") == "ID [ID] ok"
    assert redact_text("ID 110105194912310021 ok") == "ID 110105194912310021 ok"


def test_legacy_15_digit_id() -> None:
    assert cn_id15_valid("110105491231002")
    assert not cn_id15_valid("110105491331002")  # month 13
    assert redact_text("old 110105491231002") == "old [ID]"
    assert redact_text("old 990105491231002") == "old 990105491231002"


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6250941006528599"],
)
def test_bank_card(card: str) -> None:
    assert card_valid(card)
    assert redact_text(f"card {card} thanks") == "card [CARD] thanks"


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not card_valid("0000000000000000")  # Luhn-valid but not a card


@pytest.mark.parametrize(
    "text",
    [
        "Order 202405061234567 amount 1,299.00",
        "ref 1234567890123456 on 2024-05-06 12:30",
        "订单号 20240506123456789 金额 ¥45.50",
        "4111 1111 1111 1112",  # Luhn-invalid
        "qty 3, price 45.50, total 136.50, tracking SF1234567890123",
        "version 1.2.3 build 20240506",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert redact_text(text) == text


def test_extra_patterns() -> None:
    redactor = Redactor(extra_patterns=[(r"\bVIP-\d{6}\b", "[MEMBER]")])
    assert redactor("member VIP-123456 mail a@b.io") == "member [MEMBER] mail [EMAIL]"


def test_redact_value_nested() -> None:
    out = Redactor().redact_value({"a": ["x 13812345678"], "b": {"c": "a@b.io"}, "n": 5})
    assert out == {"a": ["x [PHONE]"], "b": {"c": "[EMAIL]"}, "n": 5}


def test_pseudonymise() -> None:
    a = pseudonymise("cust-1", "k1")
    assert a == pseudonymise("cust-1", "k1") and len(a) == 32 and int(a, 16) >= 0
    assert a != pseudonymise("cust-1", "k2") and a != pseudonymise("cust-2", "k1")
    assert "cust" not in a
    with pytest.raises(ValueError):
        pseudonymise("cust-1", "")


def test_redacting_formatter_keeps_pii_out_of_logs() -> None:
    from aws_lambda_powertools import Logger

    stream = io.StringIO()
    logger = Logger(
        service="t", logger_formatter=RedactingFormatter(), logger_handler=logging.StreamHandler(stream)
    )
    logger.append_keys(customer_email="x@y.com")
    logger.info("customer 13812345678 wrote", extra={"card": "4111111111111111", "count": 3})
    try:
        raise ValueError("bad id 11010519491231002X")
    except ValueError:
        logger.exception("failed for a@b.io")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    first, second = lines
    assert first["message"] == "customer [PHONE] wrote"
    assert first["card"] == "[CARD]" and first["count"] == 3 and first["customer_email"] == "[EMAIL]"
    assert second["message"] == "failed for [EMAIL]"
    assert "11010519491231002X" not in second["exception"] and "[ID]" in second["exception"]
