from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.cli import main


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Cli = Callable[..., CliResult]


def make_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`twin ARGS...` run in-process through the real entry point (`bot.cli.main`, with
    its error handling and JSON discipline), on an environment with no TWIN_* but `env`."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
        with monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith("TWIN_"):
                    patch.delenv(key)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), "utf-8")
            patch.setattr(sys, "stdin", stdin)
            capsys.readouterr()
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
            out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
