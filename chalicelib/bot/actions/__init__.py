"""Actions with slots: a knowledge-base intent that answers with the company's own data.

An intent may carry an :class:`~chalicelib.bot.action_spec.ActionSpec`: when the bot answers that
intent, it collects the slots the action needs (order number, phone, e-mail, date, amount) from the
message or the conversation, asks for a missing one in the customer's language (at most twice, then
it offers a person), calls the company's HTTPS endpoint signed like the generic webhook, and fills
the action's answer template from the JSON response. Failures of any kind become a polite fallback
with a handoff offer. The definition, validated on save, is ``chalicelib.bot.action_spec`` (outside this package: the
knowledge base imports it). Modules: ``slots`` (extraction),
``client`` (the signed call with timeout and retries), ``breaker`` (a circuit breaker per endpoint,
in DynamoDB), ``state`` (pending slots per conversation, with a TTL), ``dialogue`` (the turn logic
the bot's listener calls). What the bot says is in the message catalog (``chalicelib/i18n``,
keys ``action.*``).
"""
