"""The shared base of the automation types: pydantic models with keyword-only constructors,
unknown fields refused, and enum-like strings normalized the way W&B's are (case-insensitive,
with W&B's aliases)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from trackwell.automations._semantics import CMP_SYMBOLS


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _choice(name: str, allowed: tuple[str, ...], aliases: dict[str, str] | None = None) -> Any:
    """A validator: a string, upper-cased, mapped through ``aliases``, one of ``allowed``."""
    aliases = aliases or {}

    def check(value: Any) -> Any:
        raw = getattr(value, "value", value)
        if not isinstance(raw, str):
            raise ValueError(f"{name} must be one of {', '.join(allowed)} (a string), not {value!r}")
        text = aliases.get(raw.strip().upper(), raw.strip().upper())
        if text not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
        return text

    return BeforeValidator(check)


def _cmp(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        text = CMP_SYMBOLS.get(text, text.lower())
        if text in CMP_SYMBOLS.values():
            return text
    raise ValueError(f"cmp must be one of {', '.join(CMP_SYMBOLS)} or {', '.join(CMP_SYMBOLS.values())}, "
                     f"not {value!r}")


Agg = Annotated[str, _choice("agg", ("MIN", "MAX", "AVERAGE", "SUM"), {"AVG": "AVERAGE", "MEAN": "AVERAGE"})]
Cmp = Annotated[str, BeforeValidator(_cmp)]
ChangeType = Annotated[str, _choice("change_type", ("ABSOLUTE", "RELATIVE"), {"ABS": "ABSOLUTE", "REL": "RELATIVE"})]
ChangeDir = Annotated[str, _choice("change_dir", ("INCREASE", "DECREASE", "ANY"), {"INC": "INCREASE", "DEC": "DECREASE"})]
Severity = Annotated[str, _choice("severity", ("INFO", "WARN", "ERROR"), {"WARNING": "WARN"})]
RUN_STATES = ("RUNNING", "FINISHED", "FAILED", "CRASHED", "PREEMPTED", "KILLED")
RunStateName = Annotated[str, _choice("state", RUN_STATES)]


class ScopeType:
    PROJECT = "PROJECT"
    ARTIFACT_COLLECTION = "ARTIFACT_COLLECTION"


class EventType:
    RUN_METRIC = "RUN_METRIC"
    RUN_METRIC_CHANGE = "RUN_METRIC_CHANGE"
    RUN_METRIC_ZSCORE = "RUN_METRIC_ZSCORE"
    RUN_STATE = "RUN_STATE"
    RUN_ALERT = "RUN_ALERT"
    CREATE_ARTIFACT = "CREATE_ARTIFACT"
    LINK_ARTIFACT = "LINK_ARTIFACT"
    UNLINK_ARTIFACT = "UNLINK_ARTIFACT"
    ADD_ARTIFACT_ALIAS = "ADD_ARTIFACT_ALIAS"
    ADD_ARTIFACT_TAG = "ADD_ARTIFACT_TAG"
    REMOVE_ARTIFACT_TAG = "REMOVE_ARTIFACT_TAG"


class ActionType:
    NOTIFICATION = "NOTIFICATION"
    GENERIC_WEBHOOK = "GENERIC_WEBHOOK"
    NO_OP = "NO_OP"
