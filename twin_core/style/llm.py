"""Every language model call goes through litellm, and only through this module.

A call has a timeout, `retries` per model (litellm's own retry on rate limits, timeouts
and server errors), and a list of fallback models tried in order. Its cost, by litellm's
cost tracking (`completion_cost`), is added to the day's spending (`SpendLedger`); once
the day's spending reaches the cap, no call is made and `BudgetExceeded` says so (the
composer then drafts with the offline responder and tells the owner why).

litellm fetches its model cost map from the network at import unless told otherwise;
`twin_core/__init__.py` sets LITELLM_LOCAL_MODEL_COST_MAP before anything imports it.
litellm takes seconds to import, so it is imported on the first call, not at start-up:
`twin stats` and `twin recall` never pay for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger("twin.llm")

LOCAL_PROVIDER = "twin"
LOCAL_MODEL = f"{LOCAL_PROVIDER}/local"


class ModelError(RuntimeError):
    """The language model could not answer; the message says which model and why."""


class BudgetExceeded(ModelError):
    """The day's model spending reached the configured cap: no call was made."""


class StateStore(Protocol):
    def get(self, key: str, default: str = "") -> str: ...

    def set(self, key: str, value: str) -> None: ...


class SpendLedger:
    """The day's (UTC) model spending in dollars, kept in the state table so every
    process of the twin counts against one cap."""

    PREFIX = "llm_spend:"

    def __init__(self, state: StateStore, cap_usd: float | None) -> None:
        self.state = state
        self.cap_usd = cap_usd
        self._lock = threading.Lock()

    @staticmethod
    def today() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d")

    def spent(self, day: str | None = None) -> float:
        value = self.state.get(self.PREFIX + (day or self.today()), "0")
        try:
            return float(value or 0)
        except ValueError:
            return 0.0

    def check(self) -> None:
        if self.cap_usd is not None and self.spent() >= self.cap_usd:
            raise BudgetExceeded(
                f"today's model spending ${self.spent():.4f} reached the cap "
                f"${self.cap_usd:.2f} (llm_daily_budget_usd)"
            )

    def add(self, cost: float) -> None:
        if cost <= 0:
            return
        with self._lock:
            day = self.today()
            self.state.set(self.PREFIX + day, repr(self.spent(day) + cost))


def import_litellm() -> Any:
    """litellm, imported once and told to keep quiet: it prints help banners to stdout
    on errors, and nothing a library prints may reach the twin's own output."""
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def register_local_provider() -> None:
    """Make `twin/local` known to litellm (idempotent)."""
    litellm = import_litellm()

    from twin_core.style.local_model import LocalResponder

    providers = litellm.custom_provider_map
    if not any(p.get("provider") == LOCAL_PROVIDER for p in providers):
        providers.append({"provider": LOCAL_PROVIDER, "custom_handler": LocalResponder()})


def warm_language_model(model: str) -> None:
    """Import litellm (seconds) and register the local provider ahead of the first
    draft; blocking, so callers run it off the event loop."""
    litellm = import_litellm()
    if model.startswith(f"{LOCAL_PROVIDER}/"):
        register_local_provider()
        # One offline call: litellm imports the rest of itself on its first completion.
        litellm.completion(model=model, messages=[{"role": "user", "content": "hi"}])


async def complete(
    messages: list[dict[str, str]],
    *,
    model: str,
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float = 60.0,
    retries: int = 0,
    fallbacks: Sequence[str] = (),
    ledger: SpendLedger | None = None,
) -> str:
    """The model's answer; `fallbacks` are tried in order when `model` fails."""
    litellm = import_litellm()
    failures: list[str] = []
    for candidate in [model, *fallbacks]:
        if ledger is not None:
            await asyncio.to_thread(ledger.check)
        if candidate.startswith(f"{LOCAL_PROVIDER}/"):
            register_local_provider()
        kwargs: dict[str, Any] = {"model": candidate, "messages": messages, "timeout": timeout}
        # litellm retries (`num_retries`); the provider SDK's own retries are turned off
        # so that `retries` means what it says.
        kwargs["max_retries"] = 0
        if retries:
            kwargs["num_retries"] = retries
        if api_key:
            kwargs["api_key"] = api_key
        if api_base:
            kwargs["api_base"] = api_base
        try:
            # litellm's own work per call (request building, response objects, cost
            # bookkeeping) is milliseconds of Python: done in a thread, never on the loop.
            response = await asyncio.to_thread(litellm.completion, **kwargs)
        except Exception as exc:  # litellm maps every provider's failure to its own types
            failures.append(f"{candidate}: {type(exc).__name__}: {exc}")
            continue
        if ledger is not None:
            await asyncio.to_thread(ledger.add, cost_of(litellm, response))
        content = response.choices[0].message.content
        return str(content or "").strip()
    raise ModelError("; ".join(failures))


def cost_of(litellm: Any, response: Any) -> float:
    """The call's cost in dollars by litellm's cost map (0 for a model it has no price
    for: a local server, the offline responder)."""
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # an unknown model: litellm raises rather than guess
        log.debug("no cost known for %s", getattr(response, "model", "?"))
        return 0.0


def complete_json(
    messages: list[dict[str, str]],
    *,
    model: str,
    schema: dict[str, Any],
    api_key: str | None = None,
    api_base: str | None = None,
    timeout: float = 60.0,
) -> str:
    """A blocking completion asked to answer with JSON following `schema` (litellm's
    `response_format`); the caller validates what comes back. For work already off the
    event loop (people memory's extraction)."""
    litellm = import_litellm()
    if model.startswith(f"{LOCAL_PROVIDER}/"):
        register_local_provider()
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "timeout": timeout,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "extraction", "schema": schema, "strict": True},
        },
    }
    if api_key:
        kwargs["api_key"] = api_key
    if api_base:
        kwargs["api_base"] = api_base
    try:
        response = litellm.completion(**kwargs)
    except Exception as exc:
        raise ModelError(f"{model}: {type(exc).__name__}: {exc}") from exc
    return str(response.choices[0].message.content or "").strip()
