"""Property: for random command sequences, the views and time travel equal a fold of the events.

The fold below is written from the event definitions alone, independently of
the aggregate and the projections it checks.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.diff import SessionView, apply_diff
from domain.engine import SessionUpdate
from domain.message import Message
from projections.session_list import SessionQuery

CTX = CommandContext(tenant_id="t1", actor="prop")

words = st.text(alphabet="abcxyz ", min_size=0, max_size=6)
json_leaf = st.one_of(st.none(), st.integers(-3, 3), words, st.booleans())
json_objects = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(json_leaf, st.dictionaries(st.sampled_from(["x", "y"]), json_leaf, max_size=2)),
    max_size=3,
)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(words.filter(bool), min_size=1, max_size=3)),
        st.tuples(st.just("title"), words),
        st.tuples(st.just("situation"), words),
        st.tuples(st.just("metadata"), json_objects, st.sampled_from(["merge", "overwrite"])),
        st.tuples(st.just("context"), json_objects, st.sampled_from(["merge", "overwrite"])),
        st.tuples(st.just("clear")),
    ),
    max_size=12,
)


def reference_merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = reference_merge(
                out.get(key) if isinstance(out.get(key), dict) else {}, value
            )
        else:
            out[key] = value
    return out


def fold(events: list[Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for event in events:
        kind = type(event).__name__
        if kind == "Created":
            state = {
                "title": event.title,
                "situation": event.situation,
                "metadata": dict(event.metadata),
                "context": dict(event.context),
                "messages": [],
                "deleted": False,
            }
        elif kind == "MessageAppended":
            state["messages"].append(event.message.text)
        elif kind in ("TitleChanged", "SituationUpdated"):
            field = "title" if kind == "TitleChanged" else "situation"
            state[field] = getattr(event, field)
        elif kind in ("MetadataUpdated", "ContextUpdated"):
            field = "metadata" if kind == "MetadataUpdated" else "context"
            merged = event.mode == "merge"
            state[field] = reference_merge(state[field], event.patch) if merged else event.patch
        elif kind == "HistoryCleared":
            state["messages"] = []
        elif kind == "Deleted":
            state["deleted"] = True
        state["version"] = event.originator_version
    return state


def run(ledger: Ledger, session_id: Any, command: tuple[Any, ...]) -> None:
    match command:
        case ("append", texts):
            ledger.append_messages(CTX, session_id, [Message.user(t) for t in texts])
        case ("title", title):
            ledger.update_session(CTX, session_id, SessionUpdate(title=title))
        case ("situation", situation):
            ledger.update_session(CTX, session_id, SessionUpdate(situation=situation))
        case ("metadata", patch, mode):
            ledger.update_session(CTX, session_id, SessionUpdate(metadata=patch), mode=mode)
        case ("context", patch, mode):
            ledger.update_session(CTX, session_id, SessionUpdate(context=patch), mode=mode)
        case ("clear",):
            ledger.clear_history(CTX, session_id)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=commands, delete_at_end=st.booleans())
def test_views_and_time_travel_equal_a_fold_of_the_events(
    ledger: Ledger, script: list[tuple[Any, ...]], delete_at_end: bool
) -> None:
    user = uuid.uuid4().hex  # isolates this example's session in the shared list
    session = ledger.create_session(
        CTX, title="start", user_id=user, metadata={"a": 1, "b": {"x": 1}}
    )
    for command in script:
        run(ledger, session.id, command)
    if delete_at_end:
        ledger.delete_session(CTX, session.id)

    events = ledger.list_events("t1", session.id, limit=1000).data
    expected = fold(events)

    (row,) = ledger.list_sessions(
        SessionQuery(tenant_id="t1", user_id=user, include_deleted=True)
    ).data
    assert (row.title, row.metadata, row.version) == (
        expected["title"],
        expected["metadata"],
        expected["version"],
    )
    assert row.message_count == len(expected["messages"])
    assert row.status == ("deleted" if expected["deleted"] else "active")
    if not expected["deleted"]:
        history = ledger.list_messages("t1", session.id, limit=1000).data
        assert [e.message.text for e in history] == expected["messages"]

    for version in range(1, len(events) + 1):
        past = fold(events[:version])
        state = ledger.get_state("t1", session.id, version=version)
        got = state.session
        assert (got.version, got.title, got.situation) == (
            version,
            past["title"],
            past["situation"],
        )
        assert (got.metadata, got.context) == (past["metadata"], past["context"])
        assert [e.message.text for e in state.messages] == past["messages"]
        assert got.is_deleted == past["deleted"]

    views = {
        v: SessionView.of(s.session, [e.message for e in s.messages])
        for v in range(1, len(events) + 1)
        for s in [ledger.get_state("t1", session.id, version=v)]
    }
    for a in views:
        for b in (1, a, len(events)):
            diff = ledger.diff("t1", session.id, a, b)
            assert apply_diff(views[a], diff) == views[b]
