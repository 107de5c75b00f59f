"""The batch's embedded index (SQLite in OUT): what was found, what is done, what failed.

One writer (the batch process); WAL so a reader (`sqlite3 OUT/index.sqlite`) never blocks it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY,
  size INTEGER,
  mtime_ns INTEGER,
  sha256 TEXT,
  kind TEXT,
  status TEXT NOT NULL,          -- pending | running | done | failed | duplicate | not_video
  case_dir TEXT,
  duplicate_of TEXT,
  error TEXT,
  duration REAL,
  started TEXT,
  finished TEXT,
  wall_s REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  video TEXT,                    -- the video file (path is the row's key: a manifest row may repeat a video)
  row TEXT,                      -- the manifest row as JSON (pages, chats, stream facts), or NULL
  ord INTEGER,                   -- the manifest line, for the order of the summary
  identity TEXT                  -- sha256 of the row's pages, chats and facts ('' for a bare video)
);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class BatchIndex:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        have = {r[1] for r in self.db.execute("PRAGMA table_info(files)")}
        for col, decl in (("video", "TEXT"), ("row", "TEXT"), ("ord", "INTEGER"), ("identity", "TEXT")):
            if col not in have:  # an index made by an older lsf, resumed
                self.db.execute(f"ALTER TABLE files ADD COLUMN {col} {decl}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def get(self, path: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM files WHERE path=?", (path,)).fetchone()

    def rows(self, status: str | None = None) -> list[sqlite3.Row]:
        if status:
            return self.db.execute("SELECT * FROM files WHERE status=? ORDER BY ord, path", (status,)).fetchall()
        return self.db.execute("SELECT * FROM files ORDER BY ord, path").fetchall()

    def upsert(self, path: str, **fields: Any) -> None:
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        updates = ", ".join(f"{k}=excluded.{k}" for k in fields)
        self.db.execute(
            f"INSERT INTO files (path, {cols}) VALUES (?, {marks}) ON CONFLICT(path) DO UPDATE SET {updates}",
            (path, *fields.values()),
        )

    def set(self, path: str, **fields: Any) -> None:
        if "result" in fields and not isinstance(fields["result"], (str, type(None))):
            fields["result"] = json.dumps(fields["result"], ensure_ascii=False)
        sets = ", ".join(f"{k}=?" for k in fields)
        self.db.execute(f"UPDATE files SET {sets} WHERE path=?", (*fields.values(), path))

    def meta(self, key: str, value: str | None = None) -> str | None:
        if value is not None:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            return value
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT status, count(*) FROM files GROUP BY status")}
