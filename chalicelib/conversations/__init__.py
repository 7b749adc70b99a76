"""Conversations and messages: the model every channel, the bot and agents write into."""
