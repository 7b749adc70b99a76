"""WeChat Official Account adapter (plaintext and AES "safe mode").

Every request carries ``signature = sha1(sorted(token, timestamp, nonce))`` in the
query string; it is checked first. In safe mode (``encrypt_type=aes``) the body is
``<xml><Encrypt>…</Encrypt></xml>``, authenticated by ``msg_signature =
sha1(sorted(token, timestamp, nonce, Encrypt))`` and encrypted with AES-256-CBC
(key = b64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 with 32-byte blocks,
plaintext = 16 random bytes + 4-byte big-endian length + xml + appid).

Hardening (issue 13): the signed ``timestamp`` must be within ``FRESHNESS_WINDOW`` (5 minutes)
of now, so a captured signed URL stops working; once ``WECHAT_ENCODING_AES_KEY`` is configured
only safe-mode requests pass (``encrypt_type=aes`` with a valid ``msg_signature``), because in
plaintext mode WeChat's signature does not cover the body; ``replay_token`` names the signed
``timestamp#nonce`` so the webhook service can refuse a nonce that comes back with other content
(``chalicelib.webhooks.replay``). XML is parsed with defusedxml (no DTD, no entities, no external
references) and only as UTF-8: a UTF-16 body, another declared encoding or a NUL byte is refused
before the parser sees it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from .base import (
    MAX_BODY_BYTES,
    Secrets,
    api_base,
    build_event,
    constant_time_equal,
    from_unix,
    secret,
    utcnow,
)
from .errors import ConfigurationError, MalformedPayload, SignatureError
from .models import HttpCall, InboundEvent, MediaRef, OutboundMessage, WebhookRequest
from .policies import MB, ChannelPolicy
from .spec import ChannelSpec

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_API_BASE = "https://api.weixin.qq.com"
_BLOCK = 32
FRESHNESS_WINDOW = timedelta(minutes=5)
_FORBIDDEN_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


# --- signatures ---------------------------------------------------------------------------------


def sha1_signature(*parts: str) -> str:
    """WeChat signature: sha1 over the lexicographically sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _check_query_signature(request: WebhookRequest, token: str, now: datetime | None = None) -> None:
    q = request.query
    signature, timestamp, nonce = q.get("signature"), q.get("timestamp"), q.get("nonce")
    if not signature or not timestamp or nonce is None:
        raise SignatureError("missing signature/timestamp/nonce", status=401)
    if not constant_time_equal(sha1_signature(token, timestamp, nonce), signature.lower()):
        raise SignatureError("signature mismatch")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad signature timestamp")
    if abs(utcnow(now).timestamp() - int(timestamp)) > FRESHNESS_WINDOW.total_seconds():
        raise SignatureError("signature timestamp outside the 5-minute window")


def _safe_mode_configured(secrets: Secrets) -> bool:
    return bool(secrets.get("WECHAT_ENCODING_AES_KEY"))


# --- AES safe mode ------------------------------------------------------------------------------


def _aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except ValueError as exc:
        raise ConfigurationError("WECHAT_ENCODING_AES_KEY is not valid base64") from exc
    if len(key) != 32:
        raise ConfigurationError("WECHAT_ENCODING_AES_KEY must decode to 32 bytes (43 chars)")
    return key


def encrypt(plaintext: bytes, encoding_aes_key: str, app_id: str, *, random16: bytes | None = None) -> str:
    """Encrypt a message the way WeChat does; returns the base64 ``Encrypt`` value."""
    key = _aes_key(encoding_aes_key)
    rand = random16 if random16 is not None else os.urandom(16)
    if len(rand) != 16:
        raise ValueError("random16 must be 16 bytes")
    data = rand + struct.pack(">I", len(plaintext)) + plaintext + app_id.encode("utf-8")
    pad = _BLOCK - len(data) % _BLOCK
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt(encrypted_b64: str, encoding_aes_key: str, app_id: str) -> bytes:
    """Decrypt an ``Encrypt`` value and check the trailing appid; returns the inner XML bytes."""
    key = _aes_key(encoding_aes_key)
    try:
        cipher_text = base64.b64decode(encrypted_b64, validate=True)
    except ValueError as exc:
        raise SignatureError("Encrypt is not valid base64") from exc
    if not cipher_text or len(cipher_text) % 16:
        raise SignatureError("Encrypt has an invalid length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(cipher_text) + decryptor.finalize()
    pad = data[-1]
    if not 1 <= pad <= _BLOCK or data[-pad:] != bytes([pad]) * pad:
        raise SignatureError("bad padding")
    data = data[:-pad]
    if len(data) < 20:
        raise SignatureError("decrypted payload too short")
    (length,) = struct.unpack(">I", data[16:20])
    xml, received_app_id = data[20 : 20 + length], data[20 + length :]
    if len(xml) != length:
        raise SignatureError("decrypted length mismatch")
    if not constant_time_equal(received_app_id, app_id.encode("utf-8")):
        raise SignatureError("appid mismatch")
    return xml


def encrypted_envelope(
    plaintext_xml: bytes,
    *,
    token: str,
    encoding_aes_key: str,
    app_id: str,
    timestamp: str,
    nonce: str,
    to_user_name: str = "",
    random16: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Build a safe-mode POST body and its query params (as WeChat would send them)."""
    enc = encrypt(plaintext_xml, encoding_aes_key, app_id, random16=random16)
    body = (
        f"<xml><ToUserName><![CDATA[{to_user_name}]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    ).encode()
    query = {
        "signature": sha1_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sha1_signature(token, timestamp, nonce, enc),
    }
    return body, query


# --- XML ----------------------------------------------------------------------------------------


def _require_utf8(body: bytes) -> bytes:
    """The body as UTF-8 bytes without BOM; refuses UTF-16 (with or without BOM) and other encodings.

    Checked on the raw bytes before any parser runs: a UTF-16 body hides ``<!DOCTYPE`` from a
    byte-level look, and an XML declaration may name any encoding the parser knows.
    """
    if body.startswith(_UTF16_BOMS) or b"\x00" in body:
        raise MalformedPayload("XML must be UTF-8 (UTF-16 and NUL bytes are refused)")
    body = body.removeprefix(_UTF8_BOM)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("XML must be UTF-8") from exc
    declared = _XML_DECLARATION.match(body.lstrip())
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise MalformedPayload(f"XML must be UTF-8, not {declared.group(1).decode('ascii', 'replace')[:32]}")
    return body


def parse_xml(body: bytes) -> dict[str, str]:
    """Safely parse a flat WeChat ``<xml>`` document into ``{tag: text}``."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedPayload("body too large")
    body = _require_utf8(body)
    if _FORBIDDEN_XML.search(body):
        raise MalformedPayload("DOCTYPE/ENTITY declarations are not allowed")
    try:
        root = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedPayload("DOCTYPE/ENTITY declarations are not allowed") from exc
    except ET.ParseError as exc:
        raise MalformedPayload(f"invalid XML: {exc}") from exc
    if root.tag != "xml":
        raise MalformedPayload("root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def _is_aes(request: WebhookRequest) -> bool:
    return request.query.get("encrypt_type", "raw").lower() == "aes"


def _plaintext_xml(request: WebhookRequest, secrets: Secrets) -> bytes:
    if not _is_aes(request):
        return request.body
    envelope = parse_xml(request.body)
    encrypted = envelope.get("Encrypt")
    if not encrypted:
        raise MalformedPayload("safe mode body without <Encrypt>")
    q = request.query
    msg_signature = q.get("msg_signature")
    if not msg_signature:
        raise SignatureError("missing msg_signature", status=401)
    token = secret(secrets, "WECHAT_TOKEN")
    expected = sha1_signature(token, q.get("timestamp", ""), q.get("nonce", ""), encrypted)
    if not constant_time_equal(expected, msg_signature.lower()):
        raise SignatureError("msg_signature mismatch")
    return decrypt(encrypted, secret(secrets, "WECHAT_ENCODING_AES_KEY"), secret(secrets, "WECHAT_APP_ID"))


# --- parsing ------------------------------------------------------------------------------------

_MEDIA_KIND = {"image": "image", "voice": "audio", "video": "video", "shortvideo": "video", "file": "file"}
_EVENT_KIND = {"subscribe": "follow", "unsubscribe": "unfollow", "click": "postback", "scan": "postback"}


def _float(f: dict[str, str], key: str) -> float:
    try:
        return float(f[key])
    except (KeyError, ValueError) as exc:
        raise MalformedPayload(f"bad {key}") from exc


def _event_from_fields(f: dict[str, str]) -> InboundEvent:
    for key in ("FromUserName", "CreateTime", "MsgType"):
        if not f.get(key):
            raise MalformedPayload(f"missing {key}")
    msg_type = f["MsgType"].lower()
    common: dict[str, Any] = {
        "channel": "wechat",
        "external_user_id": f["FromUserName"],
        "platform_ts": from_unix(f["CreateTime"]),
        "reply_context": {"to_user_name": f.get("ToUserName", ""), "openid": f["FromUserName"]},
    }
    if msg_type == "event":
        event = f.get("Event", "")
        key = f"{f['FromUserName']}:{f['CreateTime']}"
        kind = _EVENT_KIND.get(event.lower(), "unsupported")
        extra: dict[str, Any] = {}
        if kind == "postback" or (kind == "follow" and f.get("EventKey")):
            extra["postback"] = f.get("EventKey") or None
        if event.upper() == "LOCATION" and f.get("Latitude") and f.get("Longitude"):
            kind = "location"
            extra["location"] = {"lat": _float(f, "Latitude"), "lon": _float(f, "Longitude")}
        return build_event(event_key=key, kind=kind, raw_type=f"event:{event}", **common, **extra)

    msg_id = f.get("MsgId") or f"{f['FromUserName']}:{f['CreateTime']}"
    common["event_key"] = msg_id
    common["raw_type"] = msg_type
    common["reply_context"]["msg_id"] = msg_id
    if msg_type == "text":
        return build_event(kind="text", text=f.get("Content", ""), **common)
    if msg_type in _MEDIA_KIND:
        media = MediaRef(
            media_id=f.get("MediaId") or None,
            url=f.get("PicUrl") or None,
            mime_type=f"audio/{f['Format'].lower()}" if f.get("Format") else None,
        )
        return build_event(
            kind=_MEDIA_KIND[msg_type], media=[media], text=f.get("Recognition") or None, **common
        )
    if msg_type == "location":
        location = {
            "lat": _float(f, "Location_X"),
            "lon": _float(f, "Location_Y"),
            "label": f.get("Label") or None,
        }
        return build_event(kind="location", location=location, **common)
    if msg_type == "link":
        text = "\n".join(p for p in (f.get("Title"), f.get("Description"), f.get("Url")) if p)
        return build_event(kind="text", text=text, **common)
    return build_event(kind="unsupported", **common)


# --- sending ------------------------------------------------------------------------------------


def _custom_send_payload(message: OutboundMessage) -> dict[str, Any]:
    to = message.recipient_id
    if message.media and message.media.media_id:
        msgtype = {"image": "image", "audio": "voice", "video": "video"}.get(message.media.type)
        if msgtype:
            return {"touser": to, "msgtype": msgtype, msgtype: {"media_id": message.media.media_id}}
    text = message.text or ""
    if message.media and message.media.url:
        text = f"{text}\n{message.media.url}".strip()
    if message.quick_replies:
        return {
            "touser": to,
            "msgtype": "msgmenu",
            "msgmenu": {
                "head_content": text,
                "list": [{"id": qr.payload, "content": qr.title} for qr in message.quick_replies],
                "tail_content": "",
            },
        }
    return {"touser": to, "msgtype": "text", "text": {"content": text}}


def _template_payload(message: OutboundMessage) -> dict[str, Any]:
    tpl = message.template
    assert tpl is not None
    params = (
        tpl.params
        if isinstance(tpl.params, dict)
        else {f"keyword{i}": value for i, value in enumerate(tpl.params, start=1)}
    )
    return {
        "touser": message.recipient_id,
        "template_id": tpl.name,
        "data": {name: {"value": value} for name, value in params.items()},
    }


SPEC = ChannelSpec(
    name="wechat",
    secrets=("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY"),
    api_base_setting="WECHAT_API_BASE",
    policy=ChannelPolicy(
        max_text=2048,
        text_unit="utf8",
        max_caption=0,  # media (by media_id) and text are separate messages
        max_quick_replies=10,
        max_quick_reply_title=20,
        max_quick_reply_payload=64,
        max_media_bytes={"image": 10 * MB, "audio": 2 * MB, "video": 10 * MB},
        service_window=timedelta(hours=48),
        supports_templates=True,
    ),
    sent_id=lambda answer: answer.get("msgid"),
)


class WeChatAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        _check_query_signature(request, secret(secrets, "WECHAT_TOKEN"), now)
        if _safe_mode_configured(secrets) and not _is_aes(request):
            raise SignatureError("safe mode is configured: plaintext (encrypt_type=raw) messages are refused")
        if _is_aes(request):
            _plaintext_xml(request, secrets)  # msg_signature + decrypt + appid check

    def replay_token(self, request: WebhookRequest) -> str | None:
        """What must not repeat within the window: the signed ``timestamp#nonce`` of a verified request."""
        q = request.query
        return f"{q.get('timestamp', '')}#{q.get('nonce', '')}"

    def handshake(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> tuple[int, str]:
        echostr = request.query.get("echostr")
        if echostr is None:
            return 400, "missing echostr"
        try:
            _check_query_signature(request, secret(secrets, "WECHAT_TOKEN"), now)
        except SignatureError:
            return 403, "forbidden"
        return 200, echostr

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        return [_event_from_fields(parse_xml(_plaintext_xml(request, secrets)))]

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        if not access_token:
            raise ConfigurationError("WeChat sends need an access_token (see http.WeChatTokenCache)")
        base = api_base(secrets, "WECHAT_API_BASE", DEFAULT_API_BASE)
        token = quote(access_token, safe="")
        if message.template:
            url = f"{base}/cgi-bin/message/template/send?access_token={token}"
            payload = _template_payload(message)
        else:
            url = f"{base}/cgi-bin/message/custom/send?access_token={token}"
            payload = _custom_send_payload(message)
        return [
            HttpCall(channel="wechat", url=url, headers={"Content-Type": "application/json"}, json=payload)
        ]


def token_url(secrets: Secrets) -> str:
    """The access-token endpoint for this account (``grant_type=client_credential``)."""
    base = api_base(secrets, "WECHAT_API_BASE", DEFAULT_API_BASE)
    app_id = quote(secret(secrets, "WECHAT_APP_ID"), safe="")
    app_secret = quote(secret(secrets, "WECHAT_APP_SECRET"), safe="")
    return f"{base}/cgi-bin/token?grant_type=client_credential&appid={app_id}&secret={app_secret}"
