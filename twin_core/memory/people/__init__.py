"""People memory: what the twin keeps about each relationship.

* `rules`: promises and facts found in one message without a language model (English,
  German, Spanish, French), due dates by `dates` (dateparser, from the message's time);
* `model`: an optional extractor through litellm with a JSON schema, its output
  validated against the message before anything is stored;
* `service.PeopleMemory`: reads each message once past a watermark, live or imported,
  and keeps facts, commitments and relationship figures (`stats`) in step;
* `cards`: what `/who`, `/promises`, `/facts` and `/checkins` show;
* `store.PeopleRepository`: the tables (`models`), which cascade from their source
  message and contact.
"""

from __future__ import annotations

from twin_core.memory.people.models import Commitment, CommitmentStatus, Fact, Relationship
from twin_core.memory.people.service import Derived, PeopleMemory
from twin_core.memory.people.store import PeopleRepository

__all__ = [
    "Commitment",
    "CommitmentStatus",
    "Derived",
    "Fact",
    "PeopleMemory",
    "PeopleRepository",
    "Relationship",
]
