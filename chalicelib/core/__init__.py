"""The domain core: shared types, typed domain events, ports and the list of channels.

It imports nothing from the rest of the project (an import-linter contract keeps it so), so every
other package can depend on it without cycles.
"""
