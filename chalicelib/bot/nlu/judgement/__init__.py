"""Handoff-request and sentiment judgement: the rules plus learned heads on the intent model's embeddings.

:mod:`.heads` trains and stores the heads (training data in ``data/``), :mod:`.judge` combines them
with the rules. numpy is imported only by those modules, not by this package.
"""
