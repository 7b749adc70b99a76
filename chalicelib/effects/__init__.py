"""A stored message's effects, off the request path, in order, exactly once.

The request path (a webhook, a chat frame, an agent's reply) stores the message and schedules its
effects on a FIFO queue (`EffectsOutbox`), one message group per conversation; it answers the
platform or acks the client as soon as both are done. `process_effects` (`EffectsConsumer`)
publishes `MessageStored` to the subscribers of `Services.subscriptions()`: fan-out, agent relay,
surveys, the bot, outbound replies, analytics.

Exactly once: a retry of the request finds the message stored and schedules its effects again
(`redelivered`), and SQS may deliver a record twice; FIFO deduplication by message id absorbs
repeats within five minutes, and every subscriber is idempotent per message id beyond that (the
bot's reply, the survey's answer, outbound deliveries and analytics events are keyed by it), so a
retry resumes what a failed attempt left undone and never does twice what it did.
"""
