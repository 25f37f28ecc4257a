"""One writer at a time per call, for every write whose rules depend on the call's phase.

A phase move and a review submitted at the same moment must not interleave: the submit would be
committed after the evaluation closed and the count of open reviews recorded with the move would
be wrong. So the phase move and every such write first lock the call's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite, whose writers already take turns for the whole file, a no-op
update that takes the write lock now rather than at the first real write) and then read the
phase as committed. Whoever comes second waits, then sees the other's result.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db, table_of
from .models import Call, Phase


def lock_call(call: Call) -> Phase:
    """Lock ``call`` until the transaction ends; returns (and sets on ``call``) its phase as
    committed now."""
    table = table_of(Call)
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(update(table).where(table.c.id == call.id).values(id=table.c.id))
        query = select(table.c.phase).where(table.c.id == call.id)
    else:
        query = select(table.c.phase).where(table.c.id == call.id).with_for_update()
    phase = Phase(connection.execute(query).scalar_one())
    set_committed_value(call, "phase", phase)
    return phase
