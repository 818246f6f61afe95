"""``run.config`` and ``run.summary``: the mapping objects scripts touch directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from trackwell.sdk.errors import ConfigError
from trackwell.sdk.values import plain_value

_MISSING = object()


def as_dict(value: Any) -> dict[str, Any]:
    """Accept a dict-like, an argparse.Namespace or anything with ``__dict__`` (W&B does too)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict or an argparse.Namespace, not {type(value).__name__}")


class Config:
    """Hyperparameters: attribute and item access; changes are journaled as ConfigUpdate.

    Changing an existing key to a different value needs ``update(..., allow_val_change=True)``
    (or ``init(allow_val_change=True)`` for the whole run): a silent change would make the
    recorded config lie about what the run used.
    """

    def __init__(self, initial: dict[str, Any], sink: Callable[[dict[str, Any]], None],
                 strict: bool = False, allow_val_change: bool = False) -> None:
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_sink", sink)
        object.__setattr__(self, "_strict", strict)
        object.__setattr__(self, "_allow_val_change", allow_val_change)
        self._data.update(self._checked(initial, allow_val_change=True))

    def _checked(self, values: dict[str, Any], allow_val_change: bool) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for key, value in values.items():
            key = str(key)
            value = plain_value(value, f"config.{key}", self._strict)
            old = self._data.get(key, _MISSING)
            if old is _MISSING or allow_val_change:
                if old != value:
                    changed[key] = value
            elif old != value:
                raise ConfigError(
                    f"config key {key!r} already has value {old!r}; refusing to change it to "
                    f"{value!r}. Pass allow_val_change=True to config.update() to change it.")
        return changed

    def update(self, d: Any, allow_val_change: bool = False) -> None:
        changed = self._checked(as_dict(d), allow_val_change or self._allow_val_change)
        if changed:
            self._data.update(changed)
            self._sink(changed)

    def setdefaults(self, d: Any) -> None:
        """Set only the keys not set yet (W&B's name)."""
        self.update({k: v for k, v in as_dict(d).items() if k not in self._data})

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def keys(self) -> Any:
        return self._data.keys()

    def items(self) -> Any:
        return self._data.items()

    def values(self) -> Any:
        return self._data.values()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping[str, Any]):
    """The run's summary: reads come from the writer's view (last value, or the
    define_metric mode); writes journal a SummaryUpdate and pin the key."""

    def __init__(self, view: Callable[[], dict[str, Any]], sync: Callable[[], None],
                 sink: Callable[[dict[str, Any], list[str]], None], strict: bool = False) -> None:
        object.__setattr__(self, "_view", view)
        object.__setattr__(self, "_sync", sync)  # wait until the writer applied queued rows
        object.__setattr__(self, "_sink", sink)
        object.__setattr__(self, "_strict", strict)

    def __getitem__(self, key: str) -> Any:
        self._sync()
        return self._view()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        self._sync()
        if key not in self._view():
            raise KeyError(key)
        self._sink({}, [key])

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        values = dict(other, **kwargs)
        plain = {str(k): plain_value(v, f"summary.{k}", self._strict) for k, v in values.items()}
        if plain:  # the writer applies it in order, so a following read sees it
            self._sink(plain, [])

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __iter__(self) -> Iterator[str]:
        self._sync()
        return iter(list(self._view()))

    def __len__(self) -> int:
        self._sync()
        return len(self._view())

    def as_dict(self) -> dict[str, Any]:
        self._sync()
        return self._view()

    def __repr__(self) -> str:
        return f"Summary({self.as_dict()!r})"
