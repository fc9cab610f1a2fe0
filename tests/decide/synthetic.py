"""A synthetic owner, written for this project: contacts with different reply rates,
delays and hours, plus noise, with the ground truth of every decision.

The owner's rules (what the generator decides, before noise):

* Mum: answers everything but closers, 8:00-22:00; later messages wait for the morning.
* Boss: answers on weekdays 9-18 within minutes; never evenings or weekends.
* Best friend: answers everything but closers, fast, any waking hour.
* Acquaintance: answers questions only, hours later.
* Colleague: answers questions on weekdays in work hours only.
* Newsletter: never.
* Ex: never.
* The family group: only messages that mention the owner.

`noise` of the decisions are flipped. Delays are log-normal around each contact's
median; the owner sleeps 0:00-7:00 (replies then wait for 7:00 plus a little).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from twin_core.decide.history import Seen

START = datetime(2025, 1, 6, tzinfo=UTC)
OWNER = "Sam"

QUESTIONS = [
    "are you free later?",
    "how's it going?",
    "did you see the match?",
    "what time works for you?",
    "can you send me that link?",
    "how was the weekend?",
    "where did you put the charger?",
    "any news on the report?",
    "wie geht's?",
    "¿qué tal el finde?",
    "tu fais quoi ce soir ?",
]
STATEMENTS = [
    "just got home",
    "the movie was great",
    "I finished the slides",
    "running late today",
    "look at this photo",
    "the meeting moved to 3",
    "bin gleich da",
    "llego en cinco minutos",
    "j'ai fini le rapport",
]
CLOSERS = ["ok", "thanks!", "haha", "👍", "cool", "gracias", "danke", "merci", "ok 👍"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    per_day: float
    hours: tuple[int, int]
    """When they write (local hours, end exclusive)."""
    median_delay_s: float
    questions: float
    closers: float
    group: bool = False


PROFILES = [
    Profile("Mum", 3.0, (7, 23), 20 * 60, 0.4, 0.2),
    Profile("Boss", 2.5, (7, 21), 5 * 60, 0.6, 0.1),
    Profile("Best friend", 5.0, (9, 24), 2 * 60, 0.4, 0.3),
    Profile("Acquaintance", 1.0, (10, 22), 3 * 3600, 0.5, 0.1),
    Profile("Colleague", 2.0, (8, 20), 15 * 60, 0.5, 0.2),
    Profile("Newsletter", 1.0, (6, 10), 0, 0.2, 0.0),
    Profile("Ex", 0.5, (20, 24), 0, 0.6, 0.1),
    Profile("Family group", 6.0, (8, 23), 30 * 60, 0.4, 0.3, group=True),
]


def owner_answers(profile: Profile, at: datetime, kind: str, mentioned: bool) -> bool:
    """The owner's rule, before noise."""
    weekday = at.weekday() < 5
    hour = at.hour
    if kind == "closing":
        return False
    match profile.name:
        case "Mum" | "Best friend":
            return True
        case "Boss":
            return weekday and 9 <= hour < 18
        case "Acquaintance":
            return kind == "question"
        case "Colleague":
            return kind == "question" and weekday and 9 <= hour < 18
        case "Family group":
            return mentioned
    return False


@dataclass(frozen=True, slots=True)
class Owner:
    messages: list[Seen]
    truth: dict[int, tuple[bool, float | None]]
    """Per incoming message id: did the owner answer, and after how many seconds."""
    names: dict[int, str]


def generate(days: int = 120, *, noise: float = 0.03, seed: int = 7) -> Owner:
    rng = random.Random(seed)
    messages: list[Seen] = []
    truth: dict[int, tuple[bool, float | None]] = {}
    next_id = 1
    for index, profile in enumerate(PROFILES):
        busy_until = START
        for day in range(days):
            start, end = profile.hours
            times = sorted(
                START + timedelta(days=day, minutes=rng.uniform(start * 60, end * 60))
                for _ in range(_poisson(rng, profile.per_day))
            )
            for at in times:
                if at < busy_until:  # they wait for the owner's answer before writing again
                    at = busy_until + timedelta(minutes=rng.uniform(1, 30))
                roll = rng.random()
                if roll < profile.closers:
                    text, kind = rng.choice(CLOSERS), "closing"
                elif roll < profile.closers + profile.questions:
                    text, kind = rng.choice(QUESTIONS), "question"
                else:
                    text, kind = rng.choice(STATEMENTS), "other"
                mentioned = profile.group and rng.random() < 0.35
                if mentioned:
                    text = f"{OWNER}, {text}"
                answer = owner_answers(profile, at, kind, mentioned)
                if rng.random() < noise:
                    answer = not answer
                delay: float | None = None
                messages.append(
                    Seen(next_id, index + 1, index + 1, False, profile.group, text, "text", at)
                )
                message_id = next_id
                next_id += 1
                if answer:
                    delay = rng.lognormvariate(math.log(max(profile.median_delay_s, 30.0)), 0.6)
                    reply_at = at + timedelta(seconds=delay)
                    if reply_at.hour < 7:  # asleep: the answer waits for the morning
                        reply_at = reply_at.replace(hour=7, minute=rng.randrange(0, 40))
                        delay = (reply_at - at).total_seconds()
                    messages.append(
                        Seen(
                            next_id, index + 1, None, True, profile.group, "sure", "text", reply_at
                        )
                    )
                    next_id += 1
                    busy_until = reply_at
                truth[message_id] = (answer, delay)
    messages.sort(key=lambda m: (m.at, m.id))
    return Owner(messages, truth, {i + 1: p.name for i, p in enumerate(PROFILES)})


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
