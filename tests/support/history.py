"""A small shared history: Sam's past exchanges with Alice and Bob."""

from __future__ import annotations

HISTORY = {
    "alice": [
        ("alice", "are we still on for dinner on friday?"),
        ("me", "yes! 7pm at Luigi's, I booked a table"),
        ("alice", "running late, sorry"),
        ("me", "no worries, see you soon"),
        ("alice", "thanks for the help today"),
        ("me", "sounds good!"),
    ],
    "bob": [
        ("bob", "can you review my PR?"),
        ("me", "on it, give me 20 minutes"),
        ("bob", "fixed the comments"),
        ("me", "sounds good!"),
        ("bob", "running late for the 1:1"),
        ("me", "no worries, see you soon"),
    ],
}
