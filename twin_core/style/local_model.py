"""`twin/local`: the built-in offline responder, served through litellm like any model.

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

SAME_CONTACT_MARGIN = 0.15
"""A reply to this same contact wins over another contact's unless that one is this
much more similar."""


def pick_reply(messages: list[dict[str, Any]]) -> tuple[str, float]:
    """The past reply to answer with, and how similar its message was (0 when none)."""
    final = unquote_all(str(messages[-1].get("content", "")))
    if not final:
        return "", 0.0
    sender, incoming = final[-1]
    best: tuple[float, str] = (0.0, "")
    for asked, answered in zip(messages[1:-1:2], messages[2:-1:2], strict=False):
        quoted = unquote_all(str(asked.get("content", "")))
        if not quoted or answered.get("role") != "assistant":
            continue
        their_sender, their_text = quoted[-1]
        score = similarity(incoming, their_text)
        if their_sender != sender:
            score -= SAME_CONTACT_MARGIN
        if score > best[0]:
            best = (score, str(answered.get("content", "")))
    return best[1], max(best[0], 0.0)


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
