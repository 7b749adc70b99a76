"""Customer-service bot: NLU engine, small talk, sentiment and human-handoff detection.

The heavy parts (numpy, the sentence-embedding engine) are imported lazily, only when a model is
trained or loaded, so importing this package is cheap for Lambda functions that never classify text.
Sub-modules: :mod:`chalicelib.bot.nlu` (intent / FAQ classifier), :mod:`chalicelib.bot.smalltalk`,
:mod:`chalicelib.bot.sentiment` and :mod:`chalicelib.bot.handoff`; the bot as a product:
:mod:`~chalicelib.bot.kb` (versioned knowledge base), :mod:`~chalicelib.bot.kb_io` (JSON/CSV),
:mod:`~chalicelib.bot.api` (REST), :mod:`~chalicelib.bot.training` (retraining, model pointer),
:mod:`~chalicelib.bot.serving` (live model), :mod:`~chalicelib.bot.policy` (dialogue policy) and
:mod:`~chalicelib.bot.listener` (the bot in conversations).
"""
