"""python-telegram-bot as Telegram's independent peer: the Updates it builds we accept, and every Bot API
call we make is one its Bot would make with the same parameters (issue 13).

aiogram, which the issue names for validating sendMessage bodies, cannot be installed next to the
project's pydantic==2.14.3 (every aiogram 3.x release requires pydantic<2.14), so python-telegram-bot's
Bot methods check our bodies instead: each parameter must be one the method takes, reply markups must
load into its keyboard classes, and the JSON it would send must equal ours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.support import SECRETS
from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Location,
    Message,
    PhotoSize,
    Update,
    User,
)
from telegram.request import BaseRequest, RequestData

from chalicelib.channels.models import OutboundMedia, OutboundMessage, QuickReply, WebhookRequest
from chalicelib.channels.telegram import SECRET_HEADER, TelegramAdapter

A = TelegramAdapter()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ALICE = User(id=424242, first_name="Alice", last_name="Fake", is_bot=False, language_code="en")
CHAT = Chat(id=424242, type="private", first_name="Alice")


def _updates() -> dict[str, Update]:
    text = Message(message_id=11, date=NOW, chat=CHAT, from_user=ALICE, text="Where is my order?")
    photo = Message(message_id=12, date=NOW, chat=CHAT, from_user=ALICE, caption="the box",
                    photo=(PhotoSize("small-id", "small-u", 90, 90), PhotoSize("big-id", "big-u", 800, 800)))
    document = Message(message_id=13, date=NOW, chat=CHAT, from_user=ALICE,
                       document=Document("doc-id", "doc-u", file_name="invoice.pdf", mime_type="application/pdf"))
    location = Message(message_id=14, date=NOW, chat=CHAT, from_user=ALICE, location=Location(113.35, 23.13))
    button = CallbackQuery(id="cbq-1", from_user=ALICE, chat_instance="ci", data="csat:5",
                           message=Message(message_id=15, date=NOW, chat=CHAT, text="Rate us"))
    edited = Message(message_id=11, date=NOW, edit_date=NOW, chat=CHAT, from_user=ALICE, text="edited text")
    return {"text": Update(1001, message=text), "photo": Update(1002, message=photo),
            "document": Update(1003, message=document), "location": Update(1004, message=location),
            "callback": Update(1005, callback_query=button), "edited": Update(1006, edited_message=edited)}


@pytest.mark.parametrize("name", list(_updates()))
def test_updates_python_telegram_bot_builds_are_accepted(name):
    update = _updates()[name]
    body = json.dumps(update.to_dict()).encode()
    request = WebhookRequest(headers={SECRET_HEADER: SECRETS["TELEGRAM_SECRET_TOKEN"]}, body=body)
    A.verify(request, SECRETS)
    (event,) = A.parse(request, SECRETS)
    assert event.event_key == str(update.update_id)
    assert event.external_user_id == str(ALICE.id)
    expected = {"text": ("text", "Where is my order?"), "photo": ("image", "the box"), "document": ("file", None),
                "location": ("location", None), "callback": ("postback", None), "edited": ("text", "edited text")}
    kind, text = expected[name]
    assert event.kind == kind
    if text is not None:
        assert event.text == text
    if name == "callback":
        assert event.postback == "csat:5"
    if name == "photo":
        assert event.media[0].media_id == "big-id"  # the largest size
    if name == "location":
        assert event.location is not None and event.location.lat == pytest.approx(23.13)


class _Recorder(BaseRequest):
    """python-telegram-bot's transport, answering like the Bot API and keeping what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         **kwargs: Any) -> tuple[int, bytes]:
        self.sent.append((url.rsplit("/", 1)[1], dict(request_data.parameters) if request_data else {}))
        result = {"message_id": 1, "date": int(NOW.timestamp()), "chat": {"id": 424242, "type": "private"}}
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _as_ptb_call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """Our API call made through python-telegram-bot's own method of that name."""
    kwargs = dict(params)
    if "reply_markup" in kwargs:
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(kwargs["reply_markup"], bot)
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in method)  # sendMessage -> send_message
    return getattr(bot, snake)(**kwargs)  # a parameter the method does not take raises TypeError


_SENDS = {
    "text": OutboundMessage(channel="telegram", recipient_id="424242", text="Your parcel left the warehouse"),
    "quick_replies": OutboundMessage(channel="telegram", recipient_id="424242", text="Rate us", quick_replies=[
        QuickReply(title=str(n), payload=f"csat:{n}") for n in range(1, 6)]),
    "photo": OutboundMessage(channel="telegram", recipient_id="424242", text="here",
                             media=OutboundMedia(type="image", url="https://example.invalid/p.jpg")),
    "document": OutboundMessage(channel="telegram", recipient_id="424242",
                                media=OutboundMedia(type="file", url="https://example.invalid/i.pdf")),
    "video": OutboundMessage(channel="telegram", recipient_id="424242",
                             media=OutboundMedia(type="video", url="https://example.invalid/v.mp4")),
}


@pytest.mark.parametrize("name", list(_SENDS))
def test_every_call_we_make_is_one_python_telegram_bots_bot_makes_alike(name):
    ours = [(c.url.rsplit("/", 1)[1], json.loads(c.encoded_body() or b""))
            for c in A.prepare_send(_SENDS[name], SECRETS)]
    recorder = _Recorder()
    bot = Bot(SECRETS["TELEGRAM_BOT_TOKEN"], request=recorder, get_updates_request=recorder)

    async def replay() -> None:
        for method, params in ours:
            await _as_ptb_call(bot, method, params)

    # A thread of its own: the browser tests' Playwright keeps an event loop running on this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, replay()).result()
    assert [m for m, _ in recorder.sent] == [m for m, _ in ours]
    for (_, mine), (_, sent) in zip(ours, recorder.sent, strict=True):
        assert sent == mine  # same parameters, nothing dropped, nothing it would add
        if "text" in mine:
            assert 1 <= len(mine["text"]) <= 4096  # the Bot API's limit (checked by our policies)
