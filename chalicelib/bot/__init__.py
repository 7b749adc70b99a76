"""Customer-service bot: NLU engine, small talk, sentiment and human-handoff detection.

The heavy parts (numpy, the sentence-embedding engine) are imported lazily, only when a model is
trained or loaded, so importing this package is cheap for Lambda functions that never classify text.
Sub-modules: :mod:`chalicelib.bot.nlu` (intent / FAQ classifier), :mod:`chalicelib.bot.smalltalk`,
:mod:`chalicelib.bot.sentiment` and :mod:`chalicelib.bot.handoff`.
"""
