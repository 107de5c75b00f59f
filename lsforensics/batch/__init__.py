"""Batch processing of archives: discovery, SQLite index, parallel/distributed runs, summary, network."""
