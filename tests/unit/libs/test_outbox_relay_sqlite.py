"""On SQLite the relay publishes outside any transaction: in-process consumers may write to its database meanwhile.

The embedded platform's in-process bus runs consumers while the relay publishes. When the relay held its database's
write lock across the publish, a consumer writing there (directly, or through another relay publishing back) waited
for SQLite's busy timeout; two relays could wait on each other that way for 30 s.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import MetaData, create_engine, event, select

from libs.platform.bus.inprocess import InProcessBus
from libs.platform.outbox import outbox_table
from libs.platform.relay import OutboxRelay


def test_a_consumer_can_write_to_the_relays_database_while_it_publishes(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'svc.sqlite3'}", connect_args={"check_same_thread": False, "timeout": 0.5})
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))  # as libs.platform.db does
    event.listen(engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None))
    md = MetaData()
    outbox = outbox_table(md)
    md.create_all(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(outbox.table.insert(), [{"message_id": f"m{i}", "topic": "t", "key": "k", "payload": b"x", "created_at": now}
                                             for i in range(3)])
    written: list[int] = []

    def consumer(messages) -> None:  # writes to the relay's own database, as a consumer of another service would to its own
        with engine.begin() as conn:
            conn.execute(outbox.table.insert().values(message_id=f"reply{len(written)}", topic="other", key="k", payload=b"y",
                                                      created_at=now))
        written.append(len(messages))

    bus = InProcessBus()
    bus.subscribe(["t"], "g", consumer)
    relay = OutboxRelay(engine, outbox, bus)

    async def run() -> int:
        relay._loop = asyncio.get_running_loop()
        return await asyncio.to_thread(relay.relay_once)

    assert asyncio.run(run()) == 3
    assert written == [3]
    with engine.connect() as conn:
        unpublished = conn.execute(select(outbox.table.c.message_id).where(outbox.table.c.published_at.is_(None))).scalars().all()
    assert unpublished == ["reply0"]  # the three relayed are marked; the consumer's own row waits for the next step
