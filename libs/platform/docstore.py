"""Document store port (the MongoDB common subset) with a pymongo and an embedded twin.

Only operations that MongoDB and FerretDB share: insert, find with simple
operators, update_one with $set, unique indexes, count and a $match/$group/$sum
aggregate. Money in documents is integer minor units or strings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Protocol

from libs.docfilter import matches


class DuplicateDocument(Exception):
    """A unique index refused the document."""


class DocumentStore(Protocol):
    def ensure_unique_index(self, collection: str, fields: list[str]) -> None: ...

    def insert_one(self, collection: str, doc: dict[str, Any]) -> None:
        """Raises DuplicateDocument when a unique index refuses it."""

    def insert_many_ignoring_duplicates(self, collection: str, docs: list[dict[str, Any]]) -> int:
        """Inserts what is new, skips duplicates; returns how many were inserted."""

    def find(self, collection: str, filter: dict[str, Any], sort: list[tuple[str, int]] | None = None, limit: int = 0) -> list[dict[str, Any]]: ...

    def update_one(self, collection: str, filter: dict[str, Any], set_fields: dict[str, Any]) -> int: ...

    def count(self, collection: str, filter: dict[str, Any]) -> int: ...

    def sum_by(self, collection: str, filter: dict[str, Any], group_field: str, sum_field: str) -> dict[Any, int]:
        """$match + $group {_id: group_field, total: {$sum: sum_field}}."""


class MongoDocumentStore:
    def __init__(self, url: str, database: str):
        import pymongo

        self._pymongo = pymongo
        self._client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000, uuidRepresentation="standard")
        self._db = self._client[database]

    def ensure_unique_index(self, collection: str, fields: list[str]) -> None:
        self._db[collection].create_index([(f, 1) for f in fields], unique=True)

    def insert_one(self, collection: str, doc: dict[str, Any]) -> None:
        try:
            self._db[collection].insert_one(dict(doc))
        except self._pymongo.errors.DuplicateKeyError as exc:
            raise DuplicateDocument(str(exc)) from None

    def insert_many_ignoring_duplicates(self, collection: str, docs: list[dict[str, Any]]) -> int:
        if not docs:
            return 0
        try:
            return len(self._db[collection].insert_many([dict(d) for d in docs], ordered=False).inserted_ids)
        except self._pymongo.errors.BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            return exc.details.get("nInserted", 0)

    def find(self, collection, filter, sort=None, limit=0):
        cursor = self._db[collection].find(filter, {"_id": 0})
        if sort:
            cursor = cursor.sort(sort)
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor)

    def update_one(self, collection, filter, set_fields):
        return self._db[collection].update_one(filter, {"$set": set_fields}).modified_count

    def count(self, collection, filter):
        return self._db[collection].count_documents(filter)

    def sum_by(self, collection, filter, group_field, sum_field):
        pipeline = [{"$match": filter}, {"$group": {"_id": f"${group_field}", "total": {"$sum": f"${sum_field}"}}}]
        return {row["_id"]: row["total"] for row in self._db[collection].aggregate(pipeline)}

    def ping(self) -> None:
        self._client.admin.command("ping")


class EmbeddedDocumentStore:
    """SQLite-backed twin for the embedded mode: documents as JSON, filters evaluated in Python."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS docs (collection TEXT, ukey TEXT, body TEXT)")
        self._conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS docs_u ON docs(collection, ukey)")
        self._conn.execute("CREATE TABLE IF NOT EXISTS uniq (collection TEXT PRIMARY KEY, fields TEXT)")
        self._lock = threading.Lock()

    def _unique_fields(self, collection: str) -> list[str] | None:
        row = self._conn.execute("SELECT fields FROM uniq WHERE collection=?", (collection,)).fetchone()
        return json.loads(row[0]) if row else None

    def ensure_unique_index(self, collection: str, fields: list[str]) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO uniq VALUES (?, ?)", (collection, json.dumps(fields)))

    def _ukey(self, collection: str, doc: dict[str, Any]) -> str | None:
        fields = self._unique_fields(collection)
        return None if not fields else json.dumps([doc.get(f) for f in fields], default=str)

    def insert_one(self, collection, doc):
        if self.insert_many_ignoring_duplicates(collection, [doc]) == 0:
            raise DuplicateDocument(f"duplicate in {collection}")

    def insert_many_ignoring_duplicates(self, collection, docs):
        inserted = 0
        with self._lock:
            self._conn.execute("BEGIN")
            for doc in docs:
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO docs VALUES (?, ?, ?)",
                    (collection, self._ukey(collection, doc), json.dumps(doc, default=str)),
                )
                inserted += cur.rowcount
            self._conn.execute("COMMIT")
        return inserted

    def _all(self, collection: str) -> Iterable[dict[str, Any]]:
        for (body,) in self._conn.execute("SELECT body FROM docs WHERE collection=? ORDER BY rowid", (collection,)):
            yield json.loads(body)

    def find(self, collection, filter, sort=None, limit=0):
        with self._lock:
            found = [d for d in self._all(collection) if matches(d, filter)]
        for field, direction in reversed(sort or []):
            found.sort(key=lambda d: (d.get(field) is None, d.get(field)), reverse=direction < 0)
        return found[:limit] if limit else found

    def update_one(self, collection, filter, set_fields):
        with self._lock:
            rows = self._conn.execute("SELECT rowid, body FROM docs WHERE collection=? ORDER BY rowid", (collection,)).fetchall()
            for rowid, body in rows:
                doc = json.loads(body)
                if matches(doc, filter):
                    doc.update(set_fields)
                    self._conn.execute("UPDATE docs SET body=? WHERE rowid=?", (json.dumps(doc, default=str), rowid))
                    return 1
        return 0

    def count(self, collection, filter):
        return len(self.find(collection, filter))

    def sum_by(self, collection, filter, group_field, sum_field):
        totals: dict[Any, int] = {}
        for doc in self.find(collection, filter):
            key = doc.get(group_field)
            totals[key] = totals.get(key, 0) + int(doc.get(sum_field) or 0)
        return totals

    def ping(self) -> None:
        self._conn.execute("SELECT 1")
