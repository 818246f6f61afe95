"""W&B-style display names for runs created without one: ``adjective-noun-N``."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "cosmic", "crimson", "daring", "dashing", "eager",
    "fancy", "fiery", "gentle", "golden", "hardy", "icy", "jolly", "keen", "lively", "lucky",
    "misty", "noble", "proud", "quiet", "rapid", "rosy", "silent", "solar", "swift", "vivid",
)
_NOUNS = (
    "breeze", "brook", "canyon", "cloud", "comet", "dawn", "dune", "ember", "field", "forest",
    "frost", "galaxy", "glade", "harbor", "lake", "leaf", "meadow", "moon", "mountain", "nebula",
    "ocean", "pine", "planet", "river", "shadow", "sky", "snow", "star", "sun", "wave",
)


def display_name(number: int) -> str:
    """``number`` is the run's position in its project (runs so far + 1)."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{number}"
