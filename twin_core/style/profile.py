"""How the owner writes to one contact: a profile learned from the owner's own messages
to them, updated message by message (`StyleProfile.add`), shown by `/style NAME`,
turned into explicit instructions for a model (`instructions`), enforced on drafts
(`style.postprocess`) and measured against a draft (`distance`).

Everything here is counts, so a profile grows incrementally: the composer keeps each
contact's profile with the id of the last message it has seen and only reads newer ones
(`StyleQueries.profile`). The profile holds no text the owner wrote, only habits:
favourite emoji, laughter forms, greeting and sign-off words, which are the owner's
own and say nothing about the contact.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


LAUGHS = re.compile(
    r"\b(?:a?(?:ha){2,}h?|(?:he){2,}|(?:hi){2,}|lo+l|lmf?ao+|rofl|(?:ja){2,}|(?:je){2,}"
    r"|k{3,}|x+d+|(?:ah){2,})\b|😂|🤣|😆|😹",
    re.IGNORECASE,
)
GREETINGS = _set(
    "hi hey hello hiya yo heya sup morning evening howdy hola ola oi salut bonjour ciao "
    "hallo servus moin dear"
)
SIGNOFFS = _set(
    "bye cheers thanks thx ty xx xoxo later cya ttyl night best regards love ciao "
    "tschüss besos bisous abrazos"
)
FORMAL = _set(
    "regards sincerely dear kindly please appreciate would could shall therefore "
    "however furthermore"
)
INFORMAL = _set(
    "gonna wanna gotta ya u ur thx pls plz lol omg btw idk tbh yeah yep nah ok okay cool dude haha"
)
ASSISTANT = re.compile(
    r"as an ai\b|as a language model|i'?d be (?:happy|glad) to|i am (?:happy|glad) to help"
    r"|i hope this helps|let me know if (?:you|there)|feel free to|great question"
    r"|i'?m (?:just )?an? (?:ai|assistant)|how can i (?:help|assist)",
    re.IGNORECASE,
)
_STOPWORDS = {
    "en": _set("the and you to is it that of for was are what with have this but not"),
    "es": _set("que de el la y en los se las por una con para pero como esta"),
    "fr": _set("le la les et est que un une des pour pas je tu vous avec mais"),
    "de": _set("der die das und ist ich nicht du ein eine mit auch aber wir"),
    "pt": _set("que de não uma os com para por mas você está isso muito"),
    "it": _set("che di il la non un una per sono ma con anche questo"),
}
MAX_WORDS_BUCKET = 80
DELAY_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 24 * 3600)
"""Upper bounds (seconds) of the delay histogram's buckets; a last one holds the rest."""


def is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" and ord(char) >= 0x2190


def emoji_of(text: str) -> list[str]:
    return [c for c in text if is_emoji(c)]


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())


def language_of(text: str) -> str:
    """A rough language (or script) of a message: enough to see code-switching."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return ""
    scripts = Counter(unicodedata.name(c, "?").split()[0] for c in letters)
    script = scripts.most_common(1)[0][0]
    if script != "LATIN":
        return script.lower()
    words = words_of(text)
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] else "latin"


@dataclass(slots=True)
class StyleProfile:
    """Counts over the owner's messages to one contact (optionally on one channel)."""

    messages: int = 0
    turns: int = 0
    words: dict[int, int] = field(default_factory=dict)
    """Messages by word count (capped at `MAX_WORDS_BUCKET`)."""
    starts_lower: int = 0
    starts_upper: int = 0
    all_lower: int = 0
    ends: dict[str, int] = field(default_factory=dict)
    """Final punctuation: ".", "!", "?", "…", "" (none) and "!!" (several)."""
    emoji_messages: int = 0
    emoji: dict[str, int] = field(default_factory=dict)
    laughs: dict[str, int] = field(default_factory=dict)
    greetings: dict[str, int] = field(default_factory=dict)
    signoffs: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    mixed_language: int = 0
    formal: int = 0
    informal: int = 0
    delays: dict[str, int] = field(default_factory=dict)
    """The owner's reply delays by bucket (`DELAY_BUCKETS`, seconds; "more")."""
    last_id: int = 0
    """The highest message id counted (for incremental updates)."""

    # -- learning -----------------------------------------------------------------------

    def add(self, text: str, *, new_turn: bool, delay: timedelta | None = None) -> None:
        """Count one message of the owner's; `new_turn` when it starts a turn (the
        previous message of the conversation was the contact's), `delay` since the
        contact's message it answers."""
        text = text.strip()
        if not text:
            return
        self.messages += 1
        self.turns += int(new_turn)
        words = words_of(text)
        _bump(self.words, min(len(text.split()), MAX_WORDS_BUCKET))
        first = next((c for c in text if c.isalpha()), "")
        if first:
            if first.islower():
                self.starts_lower += 1
            elif first.isupper():
                self.starts_upper += 1
        letters = [c for c in text if c.isalpha()]
        if letters and not any(c.isupper() for c in letters):
            self.all_lower += 1
        _bump(self.ends, _ending(text))
        found = emoji_of(text)
        if found:
            self.emoji_messages += 1
            for char in found:
                _bump(self.emoji, char)
        for laugh in LAUGHS.findall(text):
            _bump(self.laughs, _laugh_form(laugh))
        if words and words[0] in GREETINGS:
            _bump(self.greetings, words[0])
        if words and words[-1] in SIGNOFFS and len(words) > 1:
            _bump(self.signoffs, words[-1])
        languages = {language_of(line) for line in re.split(r"[.!?\n]+", text) if line.strip()}
        languages.discard("")
        main = language_of(text)
        if main:
            _bump(self.languages, main)
        if len(languages - {"latin"}) > 1:
            self.mixed_language += 1
        self.formal += int(any(w in FORMAL for w in words))
        self.informal += int(any(w in INFORMAL for w in words))
        if delay is not None and new_turn:
            _bump(self.delays, _delay_bucket(delay))

    # -- reading --------------------------------------------------------------------------

    def share(self, count: int) -> float:
        return count / self.messages if self.messages else 0.0

    def word_quantile(self, q: float) -> int:
        """The word count below which a share `q` of the owner's messages fall."""
        if not self.messages:
            return 0
        seen = 0
        for words in sorted(self.words, key=int):
            seen += self.words[words]
            if seen >= q * self.messages:
                return int(words)
        return MAX_WORDS_BUCKET

    @property
    def messages_per_turn(self) -> float:
        return self.messages / self.turns if self.turns else 1.0

    @property
    def lowercase(self) -> bool:
        """The owner mostly starts messages in lower case."""
        return self.starts_lower > 2 * self.starts_upper

    @property
    def formality(self) -> float:
        """0 informal .. 1 formal."""
        marked = self.formal + self.informal
        return self.formal / marked if marked else 0.5

    def favourite(self, counts: dict[str, int], limit: int = 3) -> list[str]:
        return [k for k, _ in Counter(counts).most_common(limit)]

    def typical_delay(self) -> str:
        if not self.delays:
            return "unknown"
        bucket = Counter(self.delays).most_common(1)[0][0]
        return _DELAY_LABELS.get(bucket, bucket)

    def summary(self) -> dict[str, Any]:
        """The profile as figures (what `/style NAME --json` prints)."""
        return {
            "messages": self.messages,
            "words_median": self.word_quantile(0.5),
            "words_p90": self.word_quantile(0.9),
            "messages_per_turn": round(self.messages_per_turn, 2),
            "starts_lowercase": round(self.share(self.starts_lower), 2),
            "all_lowercase": round(self.share(self.all_lower), 2),
            "endings": {k or "none": round(self.share(v), 2) for k, v in self.ends.items()},
            "emoji_share": round(self.share(self.emoji_messages), 2),
            "favourite_emoji": self.favourite(self.emoji, 5),
            "laughter": self.favourite(self.laughs),
            "greetings": self.favourite(self.greetings),
            "signoffs": self.favourite(self.signoffs),
            "languages": {k: round(self.share(v), 2) for k, v in self.languages.items()},
            "code_switching": round(self.share(self.mixed_language), 2),
            "formality": round(self.formality, 2),
            "typical_delay": self.typical_delay(),
        }

    def describe(self) -> list[str]:
        """One line per habit, for the owner."""
        if not self.messages:
            return ["no messages of yours yet"]
        s = self.summary()
        endings = sorted(s["endings"].items(), key=lambda kv: -kv[1])
        lines = [
            f"{self.messages} messages: usually {s['words_median']} words "
            f"(9 in 10 at most {s['words_p90']}), {s['messages_per_turn']} messages a turn",
            f"starts lower case {s['starts_lowercase']:.0%}, all lower case "
            f"{s['all_lowercase']:.0%}; endings "
            + ", ".join(f"{k} {v:.0%}" for k, v in endings[:4]),
            f"emoji in {s['emoji_share']:.0%}"
            + (f" (favourites {' '.join(s['favourite_emoji'])})" if s["favourite_emoji"] else ""),
            "laughter: " + (", ".join(s["laughter"]) or "none"),
            "greetings: "
            + (", ".join(s["greetings"]) or "none")
            + "; sign-offs: "
            + (", ".join(s["signoffs"]) or "none"),
            "languages: "
            + (", ".join(f"{k} {v:.0%}" for k, v in s["languages"].items()) or "unknown")
            + (f"; code-switching in {s['code_switching']:.0%}" if s["code_switching"] else ""),
            f"formality {s['formality']:.2f} (0 casual, 1 formal); typical reply delay "
            + s["typical_delay"],
        ]
        return lines

    def instructions(self) -> list[str]:
        """The profile as explicit instructions for a model."""
        if self.messages < 3:
            return []
        s = self.summary()
        out = [
            f"Keep it short: about {s['words_median']} words per message, "
            f"rarely more than {s['words_p90']}."
        ]
        if self.messages_per_turn >= 1.5:
            out.append(
                f"Send about {round(self.messages_per_turn)} short messages rather than one "
                "long one: put each on its own line."
            )
        if self.lowercase:
            out.append("Start messages in lower case.")
        if self.share(self.ends.get("", 0)) > 0.5:
            out.append("Usually no final punctuation.")
        if s["emoji_share"] < 0.05:
            out.append("Use no emoji.")
        elif s["favourite_emoji"]:
            out.append(
                f"Emoji in about {s['emoji_share']:.0%} of messages, mostly "
                + " ".join(s["favourite_emoji"][:3])
                + "."
            )
        if s["laughter"]:
            out.append(f"Laugh as {' or '.join(s['laughter'][:2])}.")
        if s["languages"]:
            main = max(s["languages"], key=lambda k: s["languages"][k])
            out.append(
                f"Write in {main}"
                + (", switching languages as the owner does." if s["code_switching"] else ".")
            )
        out.append("Casual tone." if self.formality < 0.4 else "Polite, fairly formal tone.")
        return out

    # -- comparing ----------------------------------------------------------------------

    def distance(self, text: str) -> float:
        """How unlike the owner's messages to this contact `text` is, in [0, 1]: the mean
        of per-habit mismatches (length outside the owner's usual range, capitalization,
        final punctuation, emoji, laughter form, language), 1 for assistant phrasing.
        0.5 when the profile knows too little (under 3 messages)."""
        if ASSISTANT.search(text):
            return 1.0
        if self.messages < 3:
            return 0.5
        parts = [p for p in text.split("\n") if p.strip()] or [text]
        penalties: list[float] = []
        low, high = self.word_quantile(0.1), self.word_quantile(0.9)
        for part in parts:
            n = len(part.split())
            if n > high:
                penalties.append(min(1.0, (n - high) / max(high, 1)))
            elif n < low:
                penalties.append(min(1.0, (low - n) / max(low, 1)))
            else:
                penalties.append(0.0)
            first = next((c for c in part if c.isalpha()), "")
            if first:
                lower_share = self.share(self.starts_lower)
                penalties.append(1 - lower_share if first.islower() else lower_share)
            ending = _ending(part)
            penalties.append(1.0 - min(1.0, self.share(self.ends.get(ending, 0)) * 2))
        has_emoji = bool(emoji_of(text))
        emoji_share = self.share(self.emoji_messages)
        penalties.append(1 - emoji_share if has_emoji else emoji_share)
        if has_emoji and self.emoji:
            unknown = [c for c in emoji_of(text) if c not in self.emoji]
            penalties.append(len(unknown) / len(emoji_of(text)))
        laughs = [_laugh_form(x) for x in LAUGHS.findall(text)]
        if laughs:
            penalties.append(0.0 if all(x in self.laughs for x in laughs) else 1.0)
        language = language_of(text)
        if language and self.languages:
            penalties.append(1.0 - self.share(self.languages.get(language, 0)))
        return round(sum(penalties) / len(penalties), 3) if penalties else 0.0

    # -- storage ------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StyleProfile:
        data = json.loads(text)
        data["words"] = {int(k): v for k, v in data.get("words", {}).items()}
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def differs_from(self, other: StyleProfile) -> bool:
        """Whether this (channel) profile is worth showing apart from `other`."""
        if self.messages < 10:
            return False
        return (
            abs(self.word_quantile(0.5) - other.word_quantile(0.5))
            > max(3, other.word_quantile(0.5) // 2)
            or abs(self.share(self.starts_lower) - other.share(other.starts_lower)) > 0.3
            or abs(self.share(self.emoji_messages) - other.share(other.emoji_messages)) > 0.3
            or abs(self.formality - other.formality) > 0.3
        )


_DELAY_LABELS = {
    "60": "under a minute",
    "300": "a few minutes",
    "900": "under 15 minutes",
    "3600": "under an hour",
    "14400": "a few hours",
    "86400": "within a day",
    "more": "more than a day",
}


def _bump(counts: dict[Any, int], key: Any) -> None:
    counts[key] = counts.get(key, 0) + 1


def _ending(text: str) -> str:
    stripped = "".join(c for c in text.rstrip() if not is_emoji(c)).rstrip()
    if stripped.endswith(("!!", "!?", "?!")):
        return "!!"
    if stripped.endswith(("...", "…")):
        return "…"
    if stripped[-1:] in (".", "!", "?"):
        return stripped[-1]
    return ""


def _laugh_form(laugh: str) -> str:
    lowered = laugh.lower()
    if lowered.startswith(("ha", "aha")):
        return "haha"
    if lowered.startswith("lo"):
        return "lol"
    if lowered.startswith("lm"):
        return "lmao"
    if lowered.startswith("k"):
        return "kkk"
    if lowered.startswith("x"):
        return "xD"
    if lowered.startswith(("ja", "je")):
        return "jaja"
    if lowered.startswith(("he", "hi")):
        return "hehe"
    return lowered


def _delay_bucket(delay: timedelta) -> str:
    seconds = delay.total_seconds()
    for bound in DELAY_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return "more"
