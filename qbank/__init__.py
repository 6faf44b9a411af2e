"""qbank: retrieval question answering over interview question banks."""

__version__ = "0.1.0"
