"""Run paths are accepted in the shapes W&B users type them."""

import pytest

from trackwell.api._api import _split_path


@pytest.mark.parametrize("path, expected", [
    ("ent/proj/abc", ["ent", "proj", "abc"]),
    ("ent/proj/runs/abc", ["ent", "proj", "abc"]),
    ("/ent/proj/abc/", ["ent", "proj", "abc"]),
    ("proj/abc", ["default", "proj", "abc"]),
])
def test_run_paths(path: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKWELL_ENTITY", raising=False)
    assert _split_path(path, 3) == expected


def test_bad_path_says_the_expected_shape() -> None:
    with pytest.raises(ValueError, match="entity/project/run_id"):
        _split_path("a/b/c/d/e", 3)
