"""A language model that records every prompt: an OpenAI-compatible chat completions
server on 127.0.0.1 (a free port), for the twin configured with `llm_model="openai/..."`.

What it answers is up to the test: by default it echoes the prompt back (so anything
in a prompt also reaches the draft, the card and, for an auto contact, the contact),
or a fixed text (a model that "obeys" an injection and answers with a command).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Prompt = list[dict[str, str]]
Reply = str | dict[str, Any]
"""The answer's text, or a whole assistant message (a tool call, say)."""
Answer = Callable[[Prompt], Reply]
ECHO_LIMIT = 4_000
"""An echo is cut here: a contact's drafts feed its next prompt, and must not snowball."""


def echo(prompt: Prompt) -> str:
    """Everything the model was shown, unquoted, as its answer."""
    shown = "\n".join(html.unescape(m.get("content", "")) for m in prompt if m["role"] != "system")
    return shown[:ECHO_LIMIT]


def prompt_text(prompt: Prompt) -> str:
    """A prompt as plain text (contacts' words unescaped), to look for words in it."""
    return "\n".join(html.unescape(m.get("content", "")) for m in prompt)


def addressee(prompt: Prompt) -> str:
    """The contact a prompt drafts for, as its system message names them."""
    system = prompt[0].get("content", "") if prompt else ""
    first = system.split("\n", 1)[0]
    return html.unescape(first.rsplit(" to ", 1)[-1].rstrip("."))


@dataclass
class RecordingModel:
    answer: Answer = echo
    prompts: list[Prompt] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    def answer_with(self, reply: Reply) -> None:
        """From now on, answer every prompt with `reply`."""
        self.answer = lambda _prompt: reply

    def since(self, count: int) -> list[Prompt]:
        return self.prompts[count:]

    async def _completions(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        prompt: Prompt = body["messages"]
        self.prompts.append(prompt)
        reply = self.answer(prompt)
        message = reply if isinstance(reply, dict) else {"role": "assistant", "content": reply}
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.prompts)}",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls" if "tool_calls" in message else "stop",
                        "message": message,
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
