"""The client's Artifact without a server: entries, digests, names, staging, disabled and
offline runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trackwell
from trackwell.schema.artifacts import InvalidArtifact, manifest_digest
from trackwell.sdk.errors import UsageError


def test_digest_is_the_contents_not_the_order_or_metadata(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "b.txt").write_text("B")
    one = trackwell.Artifact("d", "dataset", metadata={"x": 1})
    one.add_file(tmp_path / "a.txt")
    one.add_file(tmp_path / "b.txt")
    two = trackwell.Artifact("d", "dataset", description="other")
    two.add_file(tmp_path / "b.txt")
    two.add_file(tmp_path / "a.txt")
    assert one.digest == two.digest == manifest_digest({p: e.wire() for p, e in one._entries.items()})
    two.add_file(tmp_path / "a.txt", name="copy/a.txt")
    assert two.digest != one.digest
    two.remove("copy/a.txt")
    assert two.digest == one.digest
    assert one.manifest["a.txt"] == {"digest": "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd",
                                     "size": 1}


@pytest.mark.parametrize("make", [
    lambda: trackwell.Artifact("has space", "dataset"),
    lambda: trackwell.Artifact("ok", ""),
    lambda: trackwell.Artifact("ok", "dataset").add_file("/no/such/file"),
    lambda: trackwell.Artifact("ok", "dataset").add_dir("/no/such/dir"),
    lambda: trackwell.Artifact("ok", "dataset").get_entry("missing"),
])
def test_bad_input_names_the_problem(make: object) -> None:
    with pytest.raises((InvalidArtifact, ValueError, KeyError)):
        make()  # type: ignore[operator]


def test_entry_paths_stay_inside(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidArtifact, match="'..'"):
        trackwell.Artifact("ok", "dataset").add_file(tmp_path / "f", name="../escape")


def test_offline_run_stages_artifact_and_refuses_use(tmp_path: Path) -> None:
    run = trackwell.init(project="units", mode="offline", dir=str(tmp_path), reinit=True,
                         settings={"quiet": True, "console": "off"})
    art = trackwell.Artifact("staged", "model")
    with art.new_file("w.txt") as f:
        f.write("weights")
    logged = run.log_artifact(art, aliases=["candidate"])
    staged = json.loads(Path(str(logged._pending)).read_text())
    assert staged["aliases"] == ["candidate"] and staged["run_id"] == run.id
    kept = Path(staged["entries"]["w.txt"]["local"])
    assert kept.read_text() == "weights" and kept.is_relative_to(tmp_path)  # out of the temp dir
    with pytest.raises(ValueError, match="logged already"):
        art.add_file(kept)
    with pytest.raises(UsageError, match="needs the server"):
        run.use_artifact("staged:latest")
    run.finish()


def test_disabled_run_records_nothing(tmp_path: Path) -> None:
    run = trackwell.init(mode="disabled", dir=str(tmp_path), reinit=True)
    art = trackwell.Artifact("nothing", "model")
    assert run.log_artifact(art) is art
    run.link_artifact(art, "reg/x")
    with pytest.raises(UsageError, match="disabled"):
        run.use_artifact("nothing:latest")
    run.finish()
    assert not list(tmp_path.rglob("*.json"))
