"""Message templates per channel and language: what may be sent when free text may not.

An admin registers each template once per language (`PUT /admin/templates/{id}/{language}`):

| channel | kind | what the platform gets |
|---|---|---|
| whatsapp | `whatsapp_template` | `type: template` with the approved name, language code and body parameters |
| messenger | `messenger_tag` | the rendered text with a message tag (`HUMAN_AGENT`, `POST_PURCHASE_UPDATE`, ...) |
| wechat | `wechat_template` | a template message: the template id and one data field per parameter |
| line | `line_push` | a push message with the rendered text (LINE has no window; push is always allowed) |
| telegram, generic | `text` | the rendered text |
| app, web, miniprogram | `in_app` | an in-app message with the rendered text |

`body` is the text as the company recorded it, with `{{param}}` placeholders; `params` lists the
parameters in the platform's order (WhatsApp's `{{1}}`, `{{2}}`, ...; WeChat's data field names).
Validation on save: placeholders and `params` agree one to one, names and lengths fit the
platform. Only `approved` templates are sent. `purposes` say when the platform picks a template
by itself: `reengage` (free text is refused by the window: the agent's text rides in parameter
`text`), `followup.resolution_check`, `followup.ticket_pending`; `category: marketing` templates
are never sent to a customer who opted out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib import ids
from chalicelib.channels.registry import POLICIES
from chalicelib.core.channels import SOCKET_CHANNELS
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from chalicelib.store.table import Table

TemplateKind = Literal["whatsapp_template", "messenger_tag", "wechat_template", "line_push", "text", "in_app"]
TemplateStatus = Literal["approved", "pending", "rejected", "paused", "disabled"]
Category = Literal["utility", "marketing", "authentication"]

KIND_OF_CHANNEL: dict[str, TemplateKind] = {
    "whatsapp": "whatsapp_template", "messenger": "messenger_tag", "wechat": "wechat_template",
    "line": "line_push", "telegram": "text", "generic": "text",
    **{channel: "in_app" for channel in SOCKET_CHANNELS},
}
# The longest body each kind may have (the platform's documented limits; our own for in-app).
MAX_BODY = {"whatsapp_template": 1024, "messenger_tag": 2000, "wechat_template": 1000, "line_push": 5000,
            "text": 4096, "in_app": 4000}
MAX_PARAM_VALUE = {"whatsapp_template": 1024, "wechat_template": 200}
REENGAGE: Literal["reengage"] = "reengage"

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
ParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,32}$")]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")]


def placeholders(body: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(body)]


class TemplateInput(BaseModel):
    """A template as an admin registers it (one language)."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=32)
    kind: TemplateKind | None = None  # default: the channel's kind
    name: str = Field(min_length=1, max_length=512)  # WhatsApp template name, WeChat template id, else a label
    platform_language: str | None = Field(default=None, max_length=16)  # WhatsApp code, e.g. en_US, zh_CN
    body: str = Field(min_length=1, max_length=5000)
    params: list[ParamName] = Field(default_factory=list, max_length=20)
    status: TemplateStatus = "approved"
    category: Category = "utility"
    tag: str | None = Field(default=None, max_length=64)  # Messenger message tag
    purposes: list[Annotated[str, StringConstraints(pattern=r"^[a-z_.]{1,64}$")]] = Field(
        default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _fits_the_platform(self) -> TemplateInput:
        expected = KIND_OF_CHANNEL.get(self.channel)
        if expected is None:
            raise ValueError(f"unknown channel {self.channel!r}")
        kind = self.kind or expected
        if kind != expected:
            raise ValueError(f"{self.channel} templates are of kind {expected}, not {kind}")
        object.__setattr__(self, "kind", kind)
        found = placeholders(self.body)
        if len(found) != len(set(found)):
            raise ValueError("each placeholder may appear once in the body")
        if found != list(self.params) and sorted(found) != sorted(self.params):
            raise ValueError(f"the body's placeholders {found} and params {list(self.params)} must be the same")
        if len(self.params) != len(set(self.params)):
            raise ValueError("params must be distinct")
        if len(self.body) > MAX_BODY[kind]:
            raise ValueError(f"{kind} bodies are at most {MAX_BODY[kind]} characters")
        if kind == "whatsapp_template":
            if not re.fullmatch(r"[a-z0-9_]{1,512}", self.name):
                raise ValueError("a WhatsApp template name has lower-case letters, digits and _ only")
            if len(self.params) > 10:
                raise ValueError("WhatsApp body templates take at most 10 parameters here")
        if kind == "messenger_tag":
            if self.tag is None or self.tag not in POLICIES["messenger"].tag_windows:
                raise ValueError(f"a Messenger template needs a tag among {sorted(POLICIES['messenger'].tag_windows)}")
        elif self.tag is not None:
            raise ValueError("only Messenger templates carry a message tag")
        if kind == "wechat_template" and not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", self.name):
            raise ValueError("a WeChat template id has 10-64 letters, digits, _ or -")
        return self


class MessageTemplate(TemplateInput):
    model_config = ConfigDict(extra="ignore")

    template_id: str
    language: str
    updated_ms: int
    updated_by: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == "approved"


class TemplateChoice(BaseModel):
    """An agent's (or a campaign's) choice of template: its id and the parameter values."""

    model_config = ConfigDict(extra="forbid")

    template_id: TemplateId
    params: dict[ParamName, Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=dict, max_length=20)
    language: Language | None = None  # default: the conversation's language


class Rendered(BaseModel):
    """A template filled in: the text stored in the conversation and the hints outbound delivery reads."""

    template: MessageTemplate
    text: str
    meta: dict[str, Any]


def render(template: MessageTemplate, values: dict[str, str]) -> Rendered:
    """Fill `template` with `values` (InvalidInput naming the parameters that are missing or too long)."""
    if not template.usable:
        raise InvalidInput(f"template {template.template_id} ({template.language}) is {template.status}",
                           code="template_not_approved")
    missing = [p for p in template.params if not (values.get(p) or "").strip()]
    if missing:
        raise InvalidInput(f"template {template.template_id} needs {missing}", code="template_params_missing",
                           details={"missing": missing})
    kind = template.kind or KIND_OF_CHANNEL[template.channel]
    limit = MAX_PARAM_VALUE.get(kind)
    cleaned: dict[str, str] = {}
    for name in template.params:
        value = values[name].strip()
        if kind == "whatsapp_template":  # the Cloud API refuses new lines, tabs and runs of spaces in parameters
            value = re.sub(r"\s+", " ", value)
        if limit and len(value) > limit:
            raise InvalidInput(f"parameter {name} is longer than {limit} characters", code="template_param_too_long")
        cleaned[name] = value
    text = _PLACEHOLDER.sub(lambda m: cleaned[m.group(1)], template.body)
    meta: dict[str, Any] = {"template_id": template.template_id, "template_language": template.language}
    if kind == "whatsapp_template":
        meta["template"] = {"name": template.name, "language": template.platform_language or template.language,
                            "params": [cleaned[p] for p in template.params]}
    elif kind == "wechat_template":
        meta["template"] = {"name": template.name, "language": template.language, "params": cleaned}
    elif kind == "messenger_tag":
        meta["message_tag"] = template.tag
    return Rendered(template=template, text=text, meta=meta)


class TemplateStore:
    """Templates in the CONFIG partition (`TEMPLATE#<id>#<language>`); a handful, read whole."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, template_id: str, language: str, data: TemplateInput, actor: str | None) -> MessageTemplate:
        template = MessageTemplate(**data.model_dump(), template_id=template_id, language=language,
                                   updated_ms=ids.now_ms(), updated_by=actor)
        self._table.put_item(Item=encode({schema.PK: keys.CONFIG_PK, schema.SK: keys.template_sk(template_id, language),
                                          "type": "template", **template.model_dump()}))
        return template

    def get(self, template_id: str, language: str) -> MessageTemplate | None:
        item = self._table.get(encode({schema.PK: keys.CONFIG_PK, schema.SK: keys.template_sk(template_id, language)}))
        return MessageTemplate.model_validate(item) if item else None

    def delete(self, template_id: str, language: str) -> None:
        self._table.delete_item(Key=encode({schema.PK: keys.CONFIG_PK,
                                            schema.SK: keys.template_sk(template_id, language)}))

    def all(self) -> list[MessageTemplate]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                                      ExpressionAttributeValues={":pk": encode_value(keys.CONFIG_PK),
                                                                 ":prefix": encode_value(keys.TEMPLATE_SK_PREFIX)})
        return [MessageTemplate.model_validate(decode(i)) for i in items]

    # -- choosing ------------------------------------------------------------------------------

    def choose(self, template_id: str, channel: str, language: str,
               among: list[MessageTemplate] | None = None) -> MessageTemplate:
        """The template `template_id` for `channel` in `language` (else English, else any language).

        `among`: every template, when the caller read them once for many messages (a campaign's batch)."""
        versions = [t for t in (self.all() if among is None else among) if t.template_id == template_id]
        if not versions:
            raise NotFound(f"template {template_id} not found", code="template_not_found")
        on_channel = [t for t in versions if t.channel == channel]
        if not on_channel:
            raise InvalidInput(f"template {template_id} is not for {channel}", code="template_wrong_channel")
        return _best_language(on_channel, language)

    def for_purpose(self, purpose: str, channel: str, language: str) -> MessageTemplate | None:
        """An approved template of `channel` serving `purpose`, in the customer's language if there is one."""
        found = [t for t in self.all() if t.channel == channel and purpose in t.purposes and t.usable]
        return _best_language(found, language) if found else None


def _best_language(templates: list[MessageTemplate], language: str) -> MessageTemplate:
    base = language.split("_")[0].split("-")[0].lower()
    for wanted in (language, base, "en"):
        for template in templates:
            if template.language == wanted:
                return template
    return sorted(templates, key=lambda t: t.language)[0]
