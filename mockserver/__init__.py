"""A stateful mock of three token-metadata APIs: RAIR, Immutable zkEVM and Tokenization TR."""

__version__ = "0.1.0.dev0"
