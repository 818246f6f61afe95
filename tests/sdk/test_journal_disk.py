"""The journal on a disk that misbehaves: zeros after a power loss, flipped bits in lengths,
payloads and the header, short writes and a full disk, and journals from version 1.

Delivery goes through `trackwell sync` (a real subprocess) to a real server.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import LiveServer, scan_rows, start_server

from trackwell.schema import AnyRecord, Exit, History, RunStart, encode
from trackwell.sdk.frames import encode_frame
from trackwell.sdk.journal import (
    VERSION,
    JournalError,
    JournalHeader,
    JournalReader,
    JournalWriter,
    header_path,
    synced_path,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()


def _header(run_id: str) -> JournalHeader:
    return JournalHeader(version=2, writer=f"writer-{run_id}", entity="default", project="disk",
                         run_id=run_id, created=1.0, mode="offline")


def _records(run_id: str, n: int) -> list[AnyRecord]:
    """RunStart (seq 1), History rows (seqs 2..n-1, step = seq - 2), Exit (seq n)."""
    return [RunStart(seq=1, ts=1.0, entity="default", project="disk", run_id=run_id),
            *(History(seq=s, ts=float(s), step=s - 2, runtime=0.5, data={"x": float(s)}) for s in range(2, n)),
            Exit(seq=n, ts=float(n), exit_code=0, runtime=1.0)]


def _write_journal(run_dir: Path, run_id: str, n: int) -> tuple[Path, list[int]]:
    """A finished run's journal of ``n`` records; returns it and where each record's frame starts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"run-{run_id}.twj"
    writer = JournalWriter(path, _header(run_id))
    records = _records(run_id, n)
    for i in range(0, n, 1000):
        writer.append(records[i:i + 1000])
    writer.close()
    reader = JournalReader(path)
    ends = [end for _, end in reader.read()]
    return path, [reader.data_offset, *ends[:-1]]


def _flip(path: Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def _sync(server: LiveServer, *args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300"}  # one message per line, whatever the terminal
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, args), "--base-url", server.url],
                          capture_output=True, text=True, timeout=300, env=env)


def _steps(server: LiveServer, run_id: str) -> list[int]:
    return [row["_step"] for row in scan_rows(server.url, f"default/disk/{run_id}")]


def test_a_zero_filled_tail_is_the_end_and_sync_completes(tmp_path: Path, server: LiveServer) -> None:
    """Power loss leaves zeros where the last pages were: they are not frames (crc32(b"") == 0
    used to make them parse as empty frames, and the reader then raised)."""
    journal, _ = _write_journal(tmp_path / "run", "zerotail", 500)
    with open(journal, "ab") as f:
        f.write(bytes(64 * 1024))
    reader = JournalReader(journal)
    assert [r.seq for r in reader.records()] == list(range(1, 501))
    assert reader.skipped == [] and reader.losses == []

    done = _sync(server, tmp_path / "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert synced_path(journal).exists()
    assert _steps(server, "zerotail") == list(range(498))


@pytest.mark.parametrize("bit", [0, 30], ids=["low-bit", "high-bit"])
def test_a_flipped_length_bit_loses_only_its_record_and_sync_says_so(
        tmp_path: Path, server: LiveServer, bit: int) -> None:
    """A high length bit used to look like a torn tail: 101 of 999 records, marked synced."""
    run_id = f"lenflip{bit}"
    journal, starts = _write_journal(tmp_path / "run", run_id, 999)
    k = 100  # the frame of seq 101
    _flip(journal, starts[k] + 2 + bit // 8, 1 << (bit % 8))  # the u32 length after the 2-byte magic
    reader = JournalReader(journal)
    assert [r.seq for r in reader.records()] == [s for s in range(1, 1000) if s != 101]
    assert reader.skipped == [(starts[k], starts[k + 1])]

    for _ in range(2):  # a journal with a hole is never marked synced: every sync says so again
        done = _sync(server, tmp_path / "run")
        assert done.returncode == 1, done.stdout + done.stderr
        assert (f"1 record of run default/disk/{run_id} was lost to corruption at bytes "
                f"{starts[k]}-{starts[k + 1]} (seq 101); the rest were delivered") in done.stdout
        assert not synced_path(journal).exists()
    assert _steps(server, run_id) == [s for s in range(997) if s != 99]  # seq 101 was step 99


def test_a_flipped_payload_bit_loses_one_record_of_9999(tmp_path: Path, server: LiveServer) -> None:
    """Sync used to refuse the whole journal: 0 of 9,998 intact records delivered."""
    journal, starts = _write_journal(tmp_path / "run", "payloadflip", 9999)
    k = 5000
    _flip(journal, starts[k] + 8)  # inside the payload of seq 5001
    assert len(JournalReader(journal).records()) == 9998

    done = _sync(server, tmp_path / "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 record of run default/disk/payloadflip was lost to corruption" in done.stdout
    assert "(seq 5001); the rest were delivered" in done.stdout
    assert not synced_path(journal).exists()
    steps = _steps(server, "payloadflip")
    assert len(steps) == 9996 and 4999 not in steps  # 9,997 History rows less the lost one


def test_a_lost_run_start_is_rebuilt_from_the_header(tmp_path: Path, server: LiveServer) -> None:
    """The server admits a writer by its first record: without it nothing else could land."""
    journal, starts = _write_journal(tmp_path / "run", "nostart", 50)
    _flip(journal, starts[0] + 8)  # inside the RunStart's payload
    done = _sync(server, tmp_path / "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 record of run default/disk/nostart was lost to corruption" in done.stdout
    assert "(seq 1); the rest were delivered" in done.stdout
    assert _steps(server, "nostart") == list(range(48))


@pytest.mark.parametrize("offset", [1, 4, 6, 12], ids=["file-magic", "version", "frame-magic", "header-body"])
def test_a_flipped_header_byte_still_delivers_every_frame(
        tmp_path: Path, server: LiveServer, offset: int) -> None:
    """The header used to be all or nothing: one flipped byte and sync refused intact frames."""
    run_id = f"headerflip{offset}"
    journal, _ = _write_journal(tmp_path / "run", run_id, 300)
    _flip(journal, offset, 0xFF)
    reader = JournalReader(journal)
    assert reader.header == msgspec.structs.replace(_header(run_id), version=VERSION)
    assert [r.seq for r in reader.records()] == list(range(1, 301))
    assert reader.losses == [] and reader.note is not None

    done = _sync(server, tmp_path / "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "repaired" in done.stdout and synced_path(journal).exists()
    assert _steps(server, run_id) == list(range(298))


def test_a_damaged_header_without_its_copy_is_refused_by_name(tmp_path: Path) -> None:
    """The writer id is not guessed: a made-up one would let the server apply records twice."""
    journal, _ = _write_journal(tmp_path, "nocopy", 10)
    _flip(journal, 12, 0xFF)
    header_path(journal).unlink()
    with pytest.raises(JournalError, match=r"run-nocopy\.twj\.header is missing"):
        JournalReader(journal)


_FULL_DISK_CHILD = textwrap.dedent("""
    import os, resource, sys
    from trackwell.schema import Exit, History, RunStart
    from trackwell.sdk.journal import JournalHeader, JournalWriter

    path = sys.argv[1]
    header = JournalHeader(version=2, writer="w", entity="default", project="disk", run_id="fsz",
                           created=1.0, mode="offline")
    rows = lambda a, b: [History(seq=s, ts=1.0, step=s - 2, runtime=0.0, data={"x": float(s)})
                         for s in range(a, b)]
    journal = JournalWriter(path, header)
    journal.append([RunStart(seq=1, ts=1.0, entity="default", project="disk", run_id="fsz")])
    journal.append(rows(2, 102))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # the file may grow 500 more bytes: the next write is cut short mid-frame, then refused
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 500, hard))
    batch = rows(102, 202)
    try:
        journal.append(batch)
        print("appended")
    except OSError as exc:
        print("refused", exc.errno)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    journal.append(batch)  # what the writer thread does on its next drain: the same records again
    journal.append([Exit(seq=202, ts=2.0, exit_code=0, runtime=1.0)])
    journal.close()
""")


def test_a_short_write_then_a_full_disk_leaves_no_partial_frame(tmp_path: Path) -> None:
    """A real file size limit (RLIMIT_FSIZE): the kernel writes part of the batch, then refuses.
    The retried batch must not land after a partial frame (write()'s count used to be ignored)."""
    journal = tmp_path / "run-fsz.twj"
    child = subprocess.run([sys.executable, "-c", _FULL_DISK_CHILD, str(journal)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["refused", "27"]  # EFBIG: the append said it failed
    reader = JournalReader(journal)
    assert [r.seq for r in reader.records()] == list(range(1, 203))
    assert reader.skipped == []


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write() may take fewer bytes than offered (signals, pipes, some filesystems)."""
    journal = tmp_path / "run-short.twj"
    writer = JournalWriter(journal, _header("short"))
    real_write = os.write

    def seven_bytes_at_a_time(fd: int, data: bytes) -> int:  # the OS boundary, nothing of ours
        return real_write(fd, bytes(data)[:7])

    monkeypatch.setattr(os, "write", seven_bytes_at_a_time)
    writer.append(_records("short", 50))
    monkeypatch.undo()
    writer.close()
    reader = JournalReader(journal)
    assert [r.seq for r in reader.records()] == list(range(1, 51)) and reader.skipped == []


def test_appends_fdatasync_once_per_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Power loss costs at most ``fsync_interval`` of records, not everything since init."""
    synced: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    records = _records("fsync", 30)
    every = JournalWriter(tmp_path / "run-every.twj", _header("every"), fsync_interval=1e-9)
    for i in range(0, 30, 10):
        every.append(records[i:i + 10])
    assert len(synced) == 3
    every.sync_if_due()  # nothing written since the last sync: nothing to do
    assert len(synced) == 3
    every.close()

    synced.clear()
    hourly = JournalWriter(tmp_path / "run-hourly.twj", _header("hourly"), fsync_interval=3600.0)
    for i in range(0, 30, 10):
        hourly.append(records[i:i + 10])
    assert synced == []
    hourly.sync_if_due()  # what a periodic caller does between appends: not due for an hour
    assert synced == []
    hourly.close()
    assert len(synced) == 1  # close always syncs


def _write_v1(path: Path, header: JournalHeader, records: list[AnyRecord]) -> None:
    """A journal in the version-1 layout, byte for byte as trackwell wrote it before version 2."""
    body = msgspec.msgpack.encode(msgspec.structs.replace(header, version=1))
    out = bytearray(b"TWJ1" + struct.pack("<HI", 1, len(body)) + body + struct.pack("<I", zlib.crc32(body)))
    for record in records:
        payload = encode(record)
        out += struct.pack("<II", len(payload), zlib.crc32(payload)) + payload
    path.write_bytes(bytes(out))


def test_a_version_1_journal_still_syncs_zero_tail_included(tmp_path: Path, server: LiveServer) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    journal = run_dir / "run-oldjournal.twj"
    _write_v1(journal, _header("oldjournal"), _records("oldjournal", 200))
    with open(journal, "ab") as f:
        f.write(bytes(64 * 1024))
    reader = JournalReader(journal)
    assert reader.version == 1 and [r.seq for r in reader.records()] == list(range(1, 201))

    done = _sync(server, run_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert synced_path(journal).exists()
    assert _steps(server, "oldjournal") == list(range(198))


def test_a_version_1_journal_reads_past_a_damaged_frame(tmp_path: Path) -> None:
    journal = tmp_path / "run-old.twj"
    _write_v1(journal, _header("old"), _records("old", 40))
    starts = [JournalReader(journal).data_offset, *(end for _, end in JournalReader(journal).read())]
    _flip(journal, starts[20] + 12)  # the payload of seq 21
    reader = JournalReader(journal)
    assert [r.seq for r in reader.records()] == [s for s in range(1, 41) if s != 21]
    assert [(loss.first_seq, loss.last_seq) for loss in reader.losses] == [(21, 21)]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, list[int]]:
    journal, starts = _write_journal(tmp_path_factory.mktemp("pristine"), "prop", 120)
    return journal, journal.read_bytes(), starts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_flipped_bit_anywhere_costs_at_most_the_record_it_hit(
        pristine: tuple[Path, bytes, list[int]], data: st.DataObject) -> None:
    journal, good, starts = pristine
    offset = data.draw(st.integers(0, len(good) - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    window = data.draw(st.sampled_from([16, 100, 4096, 4 << 20]), label="window")
    damaged = bytearray(good)
    damaged[offset] ^= 1 << bit
    journal.write_bytes(bytes(damaged))
    try:
        reader = JournalReader(journal)
        seqs = [r.seq for r, _ in reader.read(window=window)]
    finally:
        journal.write_bytes(good)
    # the header is recovered; elsewhere the frame the bit hit is lost (the last one, seq 120,
    # is indistinguishable from a torn tail, so it is lost without a report)
    lost = set() if offset < starts[0] else {max(i for i, start in enumerate(starts) if start <= offset) + 1}
    assert seqs == [s for s in range(1, 121) if s not in lost]
    assert {s for loss in reader.losses for s in range(loss.first_seq, loss.last_seq + 1)} == lost - {120}


def _write_v2(path: Path, header: JournalHeader, records: list[AnyRecord]) -> None:
    """A journal in the version-2 layout (frames, no blocks), as trackwell wrote it before 3."""
    out = bytearray(b"TWJ1" + struct.pack("<H", 2))
    out += encode_frame(encode(msgspec.structs.replace(header, version=2)))
    for record in records:
        out += encode_frame(encode(record))
    path.write_bytes(bytes(out))


def _rows(run_id: str, n: int, started: float = 1.7e9) -> list[AnyRecord]:
    """A run as the SDK journals it: rows carry _runtime and _timestamp, so they pack into blocks."""
    rows: list[AnyRecord] = [RunStart(seq=1, ts=started, entity="default", project="disk", run_id=run_id)]
    for i in range(n):
        ts = started + 1 + i * 0.25
        rows.append(History(seq=i + 2, ts=ts, step=i, runtime=ts - started,
                            data={"loss": 1 / (i + 1), "_runtime": ts - started, "_timestamp": ts}))
    return [*rows, Exit(seq=n + 2, ts=started + n, exit_code=0, runtime=float(n))]


def test_a_version_2_journal_still_syncs_and_stays_version_2_when_appended_to(
        tmp_path: Path, server: LiveServer) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    journal = run_dir / "run-v2journal.twj"
    records = _rows("v2journal", 300)
    _write_v2(journal, _header("v2journal"), records[:200])
    appender = JournalWriter(journal, _header("v2journal"))  # an SDK of today resuming into it
    appender.append(records[200:])
    appender.close()
    reader = JournalReader(journal)
    assert reader.version == 2
    assert reader.records(blocks=True) == records  # no block was written into it
    done = _sync(server, run_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _steps(server, "v2journal") == list(range(300))


def test_a_version_3_journal_holds_blocks_and_a_damaged_block_loses_only_its_rows(
        tmp_path: Path, server: LiveServer) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    journal = run_dir / "run-v3journal.twj"
    writer = JournalWriter(journal, _header("v3journal"))
    records = _rows("v3journal", 3000)
    for i in range(0, len(records), 1000):  # three appends: three blocks (and the start, the exit)
        writer.append(records[i:i + 1000])
    writer.close()
    reader = JournalReader(journal)
    frames = list(reader.read())
    assert [type(r).__name__ for r, _ in frames] == ["RunStart", "HistoryBlock", "HistoryBlock", "HistoryBlock",
                                                     "HistoryBlock", "Exit"]
    assert reader.records() == records  # unpacked, exactly what was appended
    assert journal.stat().st_size / 3000 < 32  # bytes per row of one float
    second = frames[2]
    _flip(journal, second[1] - 100)  # a value inside the second block
    damaged = JournalReader(journal)
    lost = damaged.records()
    first_lost, last_lost = frames[2][0].seq, frames[2][0].seq + frames[2][0].n - 1  # type: ignore[union-attr]
    assert [r.seq for r in lost] == [s for s in range(1, 3003) if not first_lost <= s <= last_lost]
    assert [(loss.first_seq, loss.last_seq) for loss in damaged.losses] == [(first_lost, last_lost)]
    done = _sync(server, run_dir)
    assert done.returncode == 1, done.stdout + done.stderr  # the loss is reported, never marked synced
    assert f"{last_lost - first_lost + 1} records of run default/disk/v3journal were lost" in done.stdout
    assert _steps(server, "v3journal") == [s - 2 for s in range(2, 3002) if not first_lost <= s <= last_lost]
