"""The command line of a sweep run: the sweep's ``command`` (default ``${env} ${interpreter}
${program} ${args}``) with W&B's macros expanded for one run's parameters."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def expand(command: list[str] | tuple[str, ...] | None, program: str | None, params: dict[str, Any],
           json_file: Path) -> list[str]:
    """``command`` with each macro replaced: a whole-word list macro (``${args}``) becomes its
    items, a macro inside a word its text. ``json_file`` is written when ``${args_json_file}`` is used."""
    if not command and not program:
        raise ValueError("the sweep has neither 'program' nor 'command': the CLI agent has nothing to run "
                         "(add program: train.py to the sweep config, or use trackwell.agent(sweep_id, function=...))")
    lists = {
        "${args}": [f"--{k}={_text(v)}" for k, v in params.items()],
        "${args_no_hyphens}": [f"{k}={_text(v)}" for k, v in params.items()],
        "${args_no_boolean_flags}": [f"--{k}" if v is True else f"--{k}={_text(v)}" for k, v in params.items()
                                     if v is not False],
        "${args_json}": [json.dumps(params)],
    }
    words = {"${env}": "/usr/bin/env", "${interpreter}": sys.executable, "${program}": program or ""}
    out: list[str] = []
    for word in command or DEFAULT_COMMAND:
        if word in lists:
            out += lists[word]
            continue
        if "${args_json_file}" in word:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(json.dumps(params))
            word = word.replace("${args_json_file}", str(json_file))
        for macro, value in words.items():
            word = word.replace(macro, value)
        if word:
            out.append(word)
    return out
