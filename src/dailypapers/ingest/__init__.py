"""Ingest sources: arXiv OAI-PMH, the arXiv API, HF Daily Papers JSON, bulk JSONL."""
