"""Every language model call goes through litellm, and only through this module.

litellm fetches its model cost map from the network at import unless told otherwise;
`twin_core/__init__.py` sets LITELLM_LOCAL_MODEL_COST_MAP before anything imports it.
litellm takes seconds to import, so it is imported on the first call, not at start-up:
`twin stats` and `twin recall` never pay for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

LOCAL_PROVIDER = "twin"
LOCAL_MODEL = f"{LOCAL_PROVIDER}/local"


class ModelError(RuntimeError):
    """The language model could not answer; the message says which model and why."""


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
) -> str:
    litellm = import_litellm()

    if model.startswith(f"{LOCAL_PROVIDER}/"):
        register_local_provider()
    kwargs: dict[str, Any] = {"model": model, "messages": messages, "timeout": timeout}
    if api_key:
        kwargs["api_key"] = api_key
    if api_base:
        kwargs["api_base"] = api_base
    try:
        # litellm's own work per call (request building, response objects, cost
        # bookkeeping) is milliseconds of Python: done in a thread, never on the loop.
        response = await asyncio.to_thread(litellm.completion, **kwargs)
    except Exception as exc:  # litellm maps every provider's failure to its own types
        raise ModelError(f"{model}: {type(exc).__name__}: {exc}") from exc
    content = response.choices[0].message.content
    return str(content or "").strip()


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
