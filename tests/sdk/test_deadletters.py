"""The dead-letter file on a disk that misbehaves: each letter is the only copy of its record, so
damage to one letter must cost that letter and nothing else."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from servers import LiveServer, scan_rows, start_server

from trackwell.schema import AnyRecord, Exit, History, RunStart, encode
from trackwell.sdk.deadletter import DeadLetter, DeadLetters, dead_path
from trackwell.sdk.journal import JournalHeader, JournalWriter, synced_path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()


def _row(seq: int) -> History:
    return History(seq=seq, ts=float(seq), step=seq - 2, runtime=0.0, data={"x": float(seq)})


def _journal(run_dir: Path, run_id: str, n: int) -> Path:
    """A finished run: RunStart (seq 1), rows at seqs 2..n-1 (step = seq - 2), Exit (seq n)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    journal = run_dir / f"run-{run_id}.twj"
    writer = JournalWriter(journal, JournalHeader(version=2, writer=f"writer-{run_id}", entity="default",
                                                  project="letters", run_id=run_id, created=1.0,
                                                  mode="offline"))
    writer.append([RunStart(seq=1, ts=1.0, entity="default", project="letters", run_id=run_id),
                   *(_row(s) for s in range(2, n)), Exit(seq=n, ts=9.0, exit_code=0, runtime=1.0)])
    writer.close()
    return journal


def _damage_letter(journal: Path, seq: int) -> None:
    """Flip a bit inside the letter holding the record of ``seq`` (each letter holds the record's
    bytes as they are: found without knowing the file's layout)."""
    path = dead_path(journal)
    data = bytearray(path.read_bytes())
    data[data.find(encode(_row(seq))) + 5] ^= 0x10
    path.write_bytes(bytes(data))


def test_adding_a_letter_after_a_damaged_one_keeps_every_later_letter(tmp_path: Path) -> None:
    """``add`` used to truncate the file at the first bad frame, destroying the good letters after
    it, each the only copy of its record."""
    journal = tmp_path / "run-keep.twj"
    dead = DeadLetters(journal)
    for seq in (3, 4, 5):
        dead.add("w1", _row(seq), "too large")
    _damage_letter(journal, 4)

    again = DeadLetters(journal)  # a later process: `trackwell sync` after the run ended
    again.add("w1", _row(6), "too large")
    letters = DeadLetters(journal).letters()
    assert [letter.seq for letter in letters] == [3, 5, 6]
    assert [letter.n for letter in letters] == [1, 3, 4]  # numbers stay: letter 4 is the next one
    assert [letter.decode() for letter in letters] == [_row(3), _row(5), _row(6)]
    assert again.seqs("w1") == {3, 5, 6}


def test_a_letter_torn_by_a_crash_is_appended_after_not_cut(tmp_path: Path) -> None:
    journal = tmp_path / "run-torn.twj"
    DeadLetters(journal).add("w1", _row(3), "too large")
    frame = (DeadLetters(journal).path.read_bytes())[4:]
    with open(dead_path(journal), "ab") as f:
        f.write(frame[: len(frame) // 2])  # the process died mid-write
    DeadLetters(journal).add("w1", _row(4), "too large")
    assert [(letter.seq, letter.n) for letter in DeadLetters(journal).letters()] == [(3, 1), (4, 2)]


def test_a_retry_delivers_the_letters_around_a_damaged_one(tmp_path: Path, server: LiveServer) -> None:
    """Letters are numbered in the letter, not by position: a damaged letter does not renumber
    (and so silently drop) the ones after it, and the loss is reported."""
    run_dir = tmp_path / "run"
    journal = _journal(run_dir, "aroundit", 8)
    dead = DeadLetters(journal)
    for seq in (3, 4, 5):  # as the uploader does when the server refuses them
        dead.add("writer-aroundit", _row(seq), "over the server's request limit")
    env = {**os.environ, "COLUMNS": "300"}
    sync = [sys.executable, "-m", "trackwell", "sync", str(run_dir), "--base-url", server.url]
    first = subprocess.run(sync, capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 1 and "--retry-dead-letters" in first.stdout, first.stdout + first.stderr
    assert synced_path(journal).exists()  # every seq acknowledged, three as placeholders
    steps = [row["_step"] for row in scan_rows(server.url, "default/letters/aroundit")]
    assert steps == [0, 4, 5]

    _damage_letter(journal, 4)  # the letter of seq 4 (step 2)
    retry = subprocess.run([*sync, "--retry-dead-letters"], capture_output=True, text=True,
                           timeout=120, env=env)
    steps = [row["_step"] for row in scan_rows(server.url, "default/letters/aroundit")]
    assert steps == [0, 1, 3, 4, 5], retry.stdout + retry.stderr
    assert retry.returncode == 1 and "1 dead letter was lost to corruption" in retry.stdout, retry.stdout


def _legacy_file(journal: Path, records: list[AnyRecord]) -> None:
    """A version-1 dead-letter file, byte for byte: b"TWD1", then u32 length | u32 crc | payload."""
    out = bytearray(b"TWD1")
    for record in records:
        body = msgspec.msgpack.encode({"writer": "w1", "seq": record.seq, "reason": "r", "key": "x",
                                       "size": 1, "at": 1.0, "record": encode(record)})
        out += struct.pack("<II", len(body), zlib.crc32(body)) + body
    dead_path(journal).write_bytes(bytes(out))


def test_a_version_1_file_is_read_and_converted_with_the_same_numbers(tmp_path: Path) -> None:
    journal = tmp_path / "run-old.twj"
    _legacy_file(journal, [_row(3), _row(4)])
    assert [(letter.seq, letter.n) for letter in DeadLetters(journal).letters()] == [(3, 1), (4, 2)]

    DeadLetters(journal).add("w1", _row(7), "too large")
    assert dead_path(journal).read_bytes()[:4] == b"TWD2"
    letters = DeadLetters(journal).letters()
    assert [(letter.seq, letter.n) for letter in letters] == [(3, 1), (4, 2), (7, 3)]
    assert all(isinstance(letter, DeadLetter) for letter in letters)
    kept = dead_path(journal).with_name(dead_path(journal).name + ".v1")
    assert kept.read_bytes()[:4] == b"TWD1"  # the old bytes are not destroyed
