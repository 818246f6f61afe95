"""The journal round trip, a torn tail and a damaged middle frame (more damage: test_journal_disk.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackwell.schema import Exit, History, RunStart
from trackwell.sdk.journal import (
    JournalHeader,
    JournalReader,
    JournalWriter,
    read_ack,
    write_ack,
)


def _write(path: Path, n: int) -> None:
    header = JournalHeader(version=1, writer="w1", entity="e", project="p", run_id="r",
                           created=1.0, mode="offline")
    w = JournalWriter(path, header)
    w.append([RunStart(seq=1, ts=1.0, entity="e", project="p", run_id="r")])
    w.append([History(seq=i, ts=float(i), step=i - 2, runtime=0.5,
                      data={"loss": float("nan") if i == 3 else 1.0 / i, "s": "x"})
              for i in range(2, n)])
    w.append([Exit(seq=n, ts=9.0, exit_code=0, runtime=1.0)])
    w.close()


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "run-r.twj"
    _write(path, 10)
    reader = JournalReader(path)
    assert reader.header.writer == "w1"
    records = reader.records()
    assert [r.seq for r in records] == list(range(1, 11))
    assert isinstance(records[0], RunStart) and isinstance(records[-1], Exit)
    nan = records[2].data["loss"]  # type: ignore[union-attr]
    assert nan != nan
    # reading from a returned offset resumes right after that record
    offsets = [off for _, off in reader.read()]
    assert [r.seq for r, _ in reader.read(offsets[4])] == list(range(6, 11))


@pytest.mark.parametrize("window", [1, 9, 64, 1000])
def test_reading_in_small_windows_gives_the_same_records(tmp_path: Path, window: int) -> None:
    """A window smaller than a frame, or ending mid-frame, changes nothing but memory use."""
    path = tmp_path / "run-r.twj"
    _write(path, 200)
    reader = JournalReader(path)
    whole = [(r.seq, off) for r, off in reader.read()]
    assert [(r.seq, off) for r, off in reader.read(window=window)] == whole
    assert [r.seq for r, _ in reader.read(whole[50][1], window=window)] == list(range(52, 201))

    data = path.read_bytes()
    path.write_bytes(data[:-3])  # a torn tail is still just the end
    assert [r.seq for r, _ in reader.read(window=window)] == list(range(1, 200))


def test_torn_tail_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "run-r.twj"
    _write(path, 10)
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # the Exit frame was cut by a crash
    assert [r.seq for r in JournalReader(path).records()] == list(range(1, 10))


def test_corrupted_middle_frame_is_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "run-r.twj"
    _write(path, 10)
    reader = JournalReader(path)
    offsets = [off for _, off in reader.read()]
    data = bytearray(path.read_bytes())
    data[offsets[3] + 10] ^= 0xFF  # a payload byte of the 5th record
    path.write_bytes(bytes(data))
    damaged = JournalReader(path)
    assert [r.seq for r in damaged.records()] == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert damaged.skipped == [(offsets[3], offsets[4])]
    assert [(loss.first_seq, loss.last_seq, loss.start, loss.end) for loss in damaged.losses] == [
        (5, 5, offsets[3], offsets[4])]


def test_ack_file(tmp_path: Path) -> None:
    path = tmp_path / "run-r.twj"
    assert read_ack(path) == 0
    write_ack(path, 41)
    write_ack(path, 42)
    assert read_ack(path) == 42
