"""Class mode without a user interface: a teacher's class that students join with a short code.

    store.py          open_store / get_store: the store SEQGEN_CLASS_STORE names
    base.py           ClassStore (the API the pages call) and BaseStore (that API over a backend)
    sqlite_store.py   SQLiteStore: one file in the shared user folder (the default)
    redis_store.py    RedisStore: SEQGEN_CLASS_STORE=redis://host:port/db
    records.py        the values: Stage, Question, ClassState, Answers, Drawing, Presence, ClassRun, ...
    security.py       codes, secrets, nicknames, drawings, the rate limit
    settings.py       Settings (SEQGEN_CLASS_* variables)
    errors.py         ClassError: a sentence (seqgen.locale.Sentence) and a reason
    sse.py            Server-Sent Events: /class/events?code=... streams a class's counters to browsers

No Streamlit here; no torch either (a class run's snapshot is read by its fields). docs/CLASSROOM.md describes
the design and the API with an example.
"""
from .base import BaseStore, ClassStore
from .errors import REASONS, ClassError
from .records import (
    Answer,
    Answers,
    ClassRun,
    ClassState,
    Drawing,
    Joined,
    NewClass,
    Presence,
    Question,
    Stage,
    Versions,
)
from .settings import Settings
from .store import get_store, open_store


def routes(base_url: str = "", store=None):
    """The Starlette routes app.py gives st.App: GET {base}/class/events (sse.py, imported only here, so a
    training or CLI process that imports class mode does not load Starlette)."""
    from .sse import routes as sse_routes
    return sse_routes(base_url, store)


__all__ = ["REASONS", "Answer", "Answers", "BaseStore", "ClassError", "ClassRun", "ClassState", "ClassStore", "Drawing",
           "Joined", "NewClass", "Presence", "Question", "Settings", "Stage", "Versions", "get_store", "open_store",
           "routes"]
