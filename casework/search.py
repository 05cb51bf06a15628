"""Text search over cases that finds two-character Chinese words fast, on SQLite and on
PostgreSQL.

A trigram index (pg_trgm, FTS5 ``trigram``) cannot serve a two-character word, and a word
segmenter misses names it does not know, so each case gets a row of search terms
(``CaseSearch``): every character and every pair of neighbouring characters of its Chinese
(any wide script) text, and every tail of its other words (``p123``, ``123``, ``23``…; cut
to ``TAIL`` characters), for its reference, subject, summary, messages and complainant's
name, email and phone (also as digits only). A search for ``医院`` is then one indexed term,
a search for ``000123`` a prefix of one; longer text is the AND of its terms, confirmed by
the substring match (``queries.text_match``) so nothing is found that does not contain the
words. SQLite reads the terms through FTS5, PostgreSQL through a GIN index
(``models.SEARCH_DDL``).

Writing cases stays as fast as it was: the terms are written afterwards, by ``catch_up``
(the daemon's ``search`` job every few seconds, and each console search before it runs),
which reads the cases and messages past its high-water marks (``SearchMark``) and the rows
marked stale by a change (``_mark_changed``: an edited case, party or message, an erased
one). What it has not read yet is the "tail", and a search reads the tail by substring, so
a result is never stale.

Two writers on PostgreSQL commit out of id order: a case or message may become visible
after the mark passed its id. Each ``catch_up`` there looks again at the last
``LATE_WINDOW`` ids below each mark: a case without a row, a case whose row counted fewer
messages than it has now, and indexes them (the console runs a catch-up before each
search, the daemon every few seconds). Only a transaction that stays open while more than
``LATE_WINDOW`` later ones commit is left to the hourly ``repair``. SQLite has one writer
at a time, so its ids become visible in order and it skips the check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    column,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    select,
    table,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session, UOWTransaction

from casework.models import Case, CaseSearch, Message, Party, SearchMark

__all__ = ["TAIL", "Plan", "catch_up", "condition", "plan", "repair", "terms_of"]

TAIL = 12  # a word's tails are indexed to this many characters; a longer word is confirmed
MAX_TERMS = 30_000  # a case with more terms is "partial": read by substring, never indexed
MAX_BYTES = 800_000  # the same for the length of the terms as stored (UTF-8)
MAX_WORDS = 24  # a query's terms beyond these are left to the substring check
CATCH_UP = 500  # cases (re)indexed at most per call; the rest is the next call's
LATE_WINDOW = 1000  # ids below a mark looked at again for rows committed late (PostgreSQL)
_CHUNK = 500
_FTS = table("case_search_fts", column("rowid", Integer))  # SQLite's (models.SEARCH_DDL)
_RUN = re.compile(r"[^\W_]+")  # letters and digits
_WIDE = re.compile(r"[\u2e80-\U0010ffff]+|[^\u2e80-\U0010ffff]+")  # CJK, kana, hangul on


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def segments(text: str) -> list[tuple[str, bool]]:
    """The runs of letters and digits of ``text`` (NFKC, case folded), each with whether it
    is of a wide script written without spaces (Chinese), where any pair can be a word."""
    found = []
    for run in _RUN.findall(_fold(text)):
        for part in _WIDE.findall(run):
            found.append((part, part[0] >= "\u2e80"))
    return found


def terms_of(texts: Iterable[str | None]) -> set[str]:
    """The search terms of a case's texts: wide characters and pairs, tails of other words."""
    terms: set[str] = set()
    for value in texts:
        for part, wide in segments(value or ""):
            if wide:
                terms.update(part)
                terms.update(part[i:i + 2] for i in range(len(part) - 1))
            else:
                terms.update(part[i:i + TAIL] for i in range(len(part)))
    return terms


@dataclass(frozen=True)
class Plan:
    """A query as index terms, all required: (term, whether it is a prefix). ``exact``: the
    terms say all (one Chinese character or pair, or one short word), no substring check."""

    words: tuple[tuple[str, bool], ...]
    exact: bool

    def fts5(self) -> str:
        return " AND ".join(f'"{w}"' + (" *" if prefix else "") for w, prefix in self.words)

    def tsquery(self) -> str:
        return " & ".join(f"'{w}'" + (":*" if prefix else "") for w, prefix in self.words)


def plan(query: str) -> Plan | None:
    """The index terms of a query; None when it has no letter or digit to look up."""
    folded = _fold(query).strip()
    parts = segments(folded)
    if not parts:
        return None
    words: dict[tuple[str, bool], None] = {}
    for part, wide in parts:
        if not wide:
            words[(part[:TAIL], True)] = None
        elif len(part) <= 2:
            words[(part, False)] = None
        else:
            words.update(((part[i:i + 2], False), None) for i in range(len(part) - 1))
    part, wide = parts[0]
    exact = (len(parts) == 1 and part == folded and len(part) <= (2 if wide else TAIL)
             and len(words) <= MAX_WORDS)  # fmt: skip
    return Plan(tuple(list(words)[:MAX_WORDS]), exact)


# -- reading --------------------------------------------------------------------------


def condition(session: Session, query: str, confirm: ColumnElement[bool]) -> ColumnElement[bool]:
    """The SQL condition on ``Case`` for a text search: the cases the index finds, and
    those it has not read yet (the tail), each confirmed by ``confirm`` (the substring
    match) unless the index is exact for this query."""
    found = plan(query)
    if found is None:
        return confirm
    marks = _marks(session)
    hits = _indexed(session, found)
    doubtful = select(CaseSearch.case_id).where(CaseSearch.stale | CaseSearch.partial)
    tail = (select(Case.id).where(Case.id > marks.get("case", 0)),
            select(Message.case_id).where(Message.id > marks.get("message", 0)), doubtful)
    if found.exact:
        # The index's answer (a stale row's terms may be old: its case is the tail's) and
        # the tail confirmed apart, so the substring check never reads the index's cases.
        trusted = _indexed(session, found, besides=doubtful)
        confirmed = select(Case.id).where(Case.id.in_(union(*tail)), confirm).correlate(None)
        return Case.id.in_(union(trusted, confirmed))
    # The candidates as one list of ids, so the database looks up those cases instead of
    # reading every case to test each against the index's answer.
    return Case.id.in_(union(hits, *tail)) & confirm


def _indexed(session: Session, found: Plan,
             besides: Select[int] | None = None) -> Select[int]:  # fmt: skip
    """The ids of the cases whose terms hold all of ``found``'s (stale rows too), other than
    ``besides``."""
    if session.get_bind().dialect.name == "postgresql":
        matches = text("array_to_tsvector(string_to_array(case_search.terms, ' '))"
                       " @@ CAST(:search_terms AS tsquery)")
        query = select(CaseSearch.case_id).where(
            matches.bindparams(search_terms=found.tsquery()))
        return query if besides is None else query.where(CaseSearch.case_id.not_in(besides))
    rowid = _FTS.c.rowid
    query = select(rowid).where(text("case_search_fts MATCH :search_terms")
                                .bindparams(search_terms=found.fts5()))  # fmt: skip
    return query if besides is None else query.where(rowid.not_in(besides))


def _late(session: Session, marks: dict[str, int]) -> tuple[Select[int], ...]:
    """Cases below the marks whose rows are missing or count fewer messages than they have:
    rows a second writer committed after the marks passed their ids (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return ()
    case_mark, mail_mark = marks.get("case", 0), marks.get("message", 0)
    unindexed = select(Case.id).where(
        Case.id > case_mark - LATE_WINDOW, Case.id <= case_mark,
        ~exists().where(CaseSearch.case_id == Case.id))
    recent = select(Message.case_id).where(Message.id > mail_mark - LATE_WINDOW,
                                           Message.id <= mail_mark)
    now_held = (select(func.count(Message.id)).where(Message.case_id == CaseSearch.case_id)
                .scalar_subquery())
    miscounted = select(CaseSearch.case_id).where(CaseSearch.case_id.in_(recent),
                                                  CaseSearch.messages < now_held)
    return unindexed, miscounted


def _marks(session: Session, lock: bool = False) -> dict[str, int]:
    query = select(SearchMark.name, SearchMark.value)
    if lock:  # PostgreSQL: two catch-ups at once take turns (SQLite has one writer)
        query = query.with_for_update()
    return {name: value for name, value in session.execute(query)}


# -- writing ------------------------------------------------------------------------------


def catch_up(session: Session, limit: int = CATCH_UP) -> int:
    """Index what changed since the last call: new cases, cases with new messages, rows
    marked stale; at most ``limit`` cases (the marks move only as far as was read). How
    many cases were (re)indexed; the caller commits."""
    marks = _marks(session, lock=True)
    new_cases = list(session.scalars(select(Case.id).where(Case.id > marks.get("case", 0))
                                     .order_by(Case.id).limit(limit)))  # fmt: skip
    new_mail = list(session.execute(select(Message.id, Message.case_id)
                                    .where(Message.id > marks.get("message", 0))
                                    .order_by(Message.id).limit(limit)))  # fmt: skip
    stale = list(session.scalars(select(CaseSearch.case_id).where(CaseSearch.stale)
                                 .limit(limit)))  # fmt: skip
    late = [case_id for query in _late(session, marks)
            for case_id in session.scalars(query.limit(limit))]
    ids = set(new_cases) | {case_id for _, case_id in new_mail} | set(stale) | set(late)
    index_cases(session, ids)
    if new_cases:
        _set_mark(session, marks, "case", new_cases[-1])
    if new_mail:
        _set_mark(session, marks, "message", new_mail[-1][0])
    return len(ids)


def repair(session: Session, limit: int = 5000) -> int:
    """Index cases below the mark that have no terms: on PostgreSQL, a case committed after
    one with a higher id was read (two writers at once) is passed over by the mark; the
    daemon runs this hourly. How many were indexed; the caller commits."""
    mark = _marks(session).get("case", 0)
    missing = list(session.scalars(
        select(Case.id).where(Case.id <= mark,
                              ~exists().where(CaseSearch.case_id == Case.id))
        .order_by(Case.id).limit(limit)))  # fmt: skip
    index_cases(session, missing)
    return len(missing)


def index_cases(session: Session, case_ids: Iterable[int]) -> None:
    """Write the terms of these cases afresh (a case no longer there loses its row)."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        texts, counts = _texts(session, chunk)
        rows = [_row(case_id, held, counts.get(case_id, 0)) for case_id, held in texts.items()]
        connection = session.connection()
        connection.execute(delete(CaseSearch).where(CaseSearch.case_id.in_(chunk)))
        if rows:
            connection.execute(insert(CaseSearch), rows)


def _texts(session: Session,
           ids: Sequence[int]) -> tuple[dict[int, list[str | None]], dict[int, int]]:
    """Each case's searchable texts, as ``queries.text_match`` reads them, and how many
    messages it has."""
    query = (select(Case.id, Case.reference, Case.subject, Case.summary, Party.name,
                    Party.email, Party.phone)
             .outerjoin(Party, Party.id == Case.complainant_id)
             .where(Case.id.in_(ids)))  # fmt: skip
    texts: dict[int, list[str | None]] = {}
    for case_id, *values in session.execute(query):
        phone = values[-1] or ""
        texts[case_id] = [*values, "".join(ch for ch in phone if ch.isdigit())]
    mail = select(Message.case_id, Message.subject, Message.body_text).where(
        Message.case_id.in_(ids))
    counts: dict[int, int] = {}
    for case_id, subject, body in session.execute(mail):
        if case_id in texts:
            texts[case_id] += [subject, body]
            counts[case_id] = counts.get(case_id, 0) + 1
    return texts, counts


def _row(case_id: int, texts: list[str | None], messages: int = 0) -> dict[str, Any]:
    terms = terms_of(texts)
    joined = " ".join(sorted(terms))
    # PostgreSQL refuses a tsvector over 1 MB (long tails of a three-byte script could reach
    # it below MAX_TERMS); such a case is read by substring like any other partial one.
    partial = len(terms) > MAX_TERMS or len(joined.encode()) > MAX_BYTES
    return {"case_id": case_id, "terms": "" if partial else joined, "stale": False,
            "partial": partial, "messages": messages}


def _set_mark(session: Session, marks: dict[str, int], name: str, value: int) -> None:
    if name in marks:
        session.execute(update(SearchMark).where(SearchMark.name == name).values(value=value))
    else:
        session.execute(insert(SearchMark).values(name=name, value=value))


# -- changes that make a row stale ------------------------------------------------------

_CASE_TEXT = ("reference", "subject", "summary", "complainant_id")
_PARTY_TEXT = ("name", "email", "phone")
_MESSAGE_TEXT = ("subject", "body_text", "case_id")


@event.listens_for(Session, "after_flush")
def _mark_changed(session: Session, _context: UOWTransaction) -> None:
    """An edited or deleted case, party or message makes its cases' rows stale: they are
    read by substring until ``catch_up`` indexes them again (new rows are past the marks).
    Nothing runs on a flush without such a change (intake's flushes have none)."""
    cases: set[int] = set()
    parties: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, _CASE_TEXT):
            cases.add(obj.id)
        elif isinstance(obj, Party) and _changed(obj, _PARTY_TEXT):
            parties.add(obj.id)
        elif isinstance(obj, Message) and _changed(obj, _MESSAGE_TEXT):
            cases.update(_old_and_new(obj, "case_id"))
    for obj in session.deleted:
        if isinstance(obj, Case):
            cases.add(obj.id)
        elif isinstance(obj, Party):
            parties.add(obj.id)
        elif isinstance(obj, Message):
            cases.add(obj.case_id)
    if cases or parties:
        theirs = select(Case.id).where(Case.complainant_id.in_(parties))
        session.connection().execute(
            update(CaseSearch).where(CaseSearch.case_id.in_(cases) | CaseSearch.case_id.in_(theirs))
            .values(stale=True))  # fmt: skip


def _changed(obj: object, names: Sequence[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _old_and_new(obj: object, name: str) -> set[int]:
    history = inspect(obj).attrs[name].history
    return {v for v in (*history.deleted, *history.added, *history.unchanged) if v is not None}
