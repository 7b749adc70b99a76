"""Platform layer: one adapter per messaging platform that verifies, parses and sends.

Pure and AWS-free. Entry points: ``registry.adapter_for(channel)`` (verify / handshake /
parse / prepare_send), ``policies.check_and_split`` and ``http.ChannelSender``.
"""
