"""Why recall found a message, in words: the query words it holds, the related words,
the meaning, the period; and the hits as the owner sees them, with their context."""

from __future__ import annotations

from collections.abc import Sequence

from twin_core.memory.recall.queries import RecallQueries
from twin_core.memory.recall.ranking import Related
from twin_core.memory.recall.results import Candidate, RecallHit
from twin_core.memory.recall.speakers import Speakers
from twin_core.memory.text import STOPWORDS, stem, terms, tokenize
from twin_core.types import ConversationId


def hits(
    queries: RecallQueries,
    speakers: Speakers,
    query: str,
    ranked: list[Candidate],
    context: int,
    related: Related,
) -> list[RecallHit]:
    """The ranked candidates as hits: each message with its neighbouring turns, the
    conversation it is in, and why it was found."""
    facts = [c.message for c in ranked if c.message is not None]
    around = queries.neighbours_of(facts, before=context, after=context)
    titles = queries.store.conversations.headers(
        sorted({ConversationId(m.conversation_id) for m in facts})
    )
    results: list[RecallHit] = []
    for candidate in ranked:
        turns = around.get(candidate.message_id)
        if not turns:
            continue
        message = next(m for m in turns if m.id == candidate.message_id)
        contact_id = speakers.contact_of(message)
        conversation = titles.get(message.conversation_id) or (
            speakers.name(contact_id) if contact_id is not None else "?"
        )
        matched = tuple(matched_words(query, message.text))
        sides = tuple(
            side
            for side, present in (("words", candidate.in_sparse), ("meaning", candidate.in_dense))
            if present
        )
        results.append(
            RecallHit(
                message=message,
                speaker="you"
                if message.from_owner
                else speakers.name(message.contact_id)
                if message.contact_id is not None
                else "notice"
                if message.kind == "system"
                else "?",
                conversation=conversation,
                score=candidate.score,
                why=why(candidate, matched, related_in(related, message.text)),
                context=tuple(turns),
                matched=matched,
                sides=sides,
            )
        )
    return results


def matched_words(query: str, text: str) -> list[str]:
    """The words of `text` that match a word of the query, as written in `text`."""
    wanted = set(terms(query))
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token not in STOPWORDS and stem(token) in wanted:
            seen.setdefault(token, None)
    return list(seen)


def related_in(related: Related, text: str) -> list[str]:
    """The words of `text` related to a query word, as "karate (~martial)"."""
    seen: dict[str, None] = {}
    for token in tokenize(text):
        found = related.get(stem(token)) if token not in STOPWORDS else None
        if found:
            seen.setdefault(f"{token} (~{found[1]})", None)
    return list(seen)


def why(candidate: Candidate, matched: Sequence[str], related: Sequence[str] = ()) -> str:
    parts = []
    if candidate.in_sparse:
        if matched or related:
            parts.append(f"matched words: {', '.join([*matched, *related])}")
        else:
            parts.append("matched words in the turns around it")
    if candidate.in_dense and candidate.cosine >= 0:
        parts.append(f"similar meaning ({candidate.cosine:.2f})")
    parts.extend(candidate.notes)
    return "; ".join(parts) or "close to other matches"
