"""`twin/local`: the built-in offline responder, served through litellm like any model.

The composer does not go through this provider: it calls the offline responder itself
(`style.offline`: the learned score needs the embedder and each example's contact and
date, which a prompt does not carry), and this provider serves `twin/local` to whatever
else calls litellm with it (a fallback model list, `warm_language_model`).

It writes nothing new: it answers with the owner's own past reply to the most similar
earlier message among the examples it was given (this contact's first). The composer
only gives it examples it may use (`twin_core.style.examples`), so it cannot carry one
contact's details to another.
"""

from __future__ import annotations

import time
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse

from twin_core.style.prompt import unquote_all
from twin_core.style.similarity import similarity

SAME_CONTACT_FLOOR = 0.35
"""This contact's own exchanges come first: the best of them is used whenever it is at
least this similar; only otherwise may another contact's (shareable) reply serve."""


def pick_reply(messages: list[dict[str, Any]]) -> tuple[str, float]:
    """The past reply to answer with, and how similar its message was (0 when none)."""
    final = unquote_all(str(messages[-1].get("content", "")))
    if not final:
        return "", 0.0
    sender, incoming = final[-1]
    same: tuple[float, str] = (0.0, "")
    other: tuple[float, str] = (0.0, "")
    for asked, answered in zip(messages[1:-1:2], messages[2:-1:2], strict=False):
        quoted = unquote_all(str(asked.get("content", "")))
        if not quoted or answered.get("role") != "assistant":
            continue
        their_sender, their_text = quoted[-1]
        candidate = (similarity(incoming, their_text), str(answered.get("content", "")))
        if their_sender == sender:
            same = max(same, candidate, key=lambda pair: pair[0])
        else:
            other = max(other, candidate, key=lambda pair: pair[0])
    best = same if same[0] >= SAME_CONTACT_FLOOR or same[0] >= other[0] else other
    return best[1], best[0]


class LocalResponder(CustomLLM):  # type: ignore[misc]
    def _respond(self, model: str, messages: list[dict[str, Any]]) -> Any:
        reply, _ = pick_reply(messages)
        words = sum(len(str(m.get("content", "")).split()) for m in messages)
        return ModelResponse(
            model=model,
            created=int(time.time()),
            choices=[
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": reply},
                }
            ],
            usage={
                "prompt_tokens": words,
                "completion_tokens": len(reply.split()),
                "total_tokens": words + len(reply.split()),
            },
        )

    def completion(self, model: str, messages: list[dict[str, Any]], *a: Any, **k: Any) -> Any:
        return self._respond(model, messages)

    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *a: Any, **k: Any
    ) -> Any:
        return self._respond(model, messages)
