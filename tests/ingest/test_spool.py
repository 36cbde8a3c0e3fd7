"""The durable spool: order, integrity, single ownership, full disks, and exactly-once replay."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingest import metrics
from ingest.batch import Inbound
from ingest.decoders import DEFAULT_LIMITS, DEFAULT_ROUTER
from ingest.pipeline import BatchWriter, WriterConfig
from ingest.spool import Spool, SpoolCorruptError, SpoolLockedError
from tests.ingest.harness import tiny_filesystem, wait_until


def messages(tag: str, count: int) -> list[Inbound]:
    at = datetime.now(UTC) - timedelta(hours=1)
    return [
        Inbound(
            f"dw/v1/readings/{tag}",
            json.dumps(
                {
                    "recorded_at": (at + timedelta(seconds=i)).isoformat(),
                    "temperature_c": 20,
                    "humidity_pct": 50,
                }
            ).encode(),
            time.time(),
        )
        for i in range(count)
    ]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool(tmp_path / "spool")
    try:
        yield s
    finally:
        s.close()


def test_batches_come_back_in_the_order_they_were_spooled(spool: Spool, tmp_path: Path) -> None:
    """Sequence-numbered files replay oldest first, also after a restart."""
    first, second = messages("a", 3), messages("b", 2)
    spool.append(first)
    spool.append(second)
    spool.close()
    reopened = Spool(tmp_path / "spool")
    try:
        assert [reopened.read(s) for s in reopened.segments()] == [first, second]
        assert (reopened.batches, reopened.messages) == (2, 5)
    finally:
        reopened.close()


def test_corrupt_file_is_set_aside_and_counted_not_deleted(spool: Spool) -> None:
    """A flipped byte fails the checksum: the file becomes *.corrupt, for an operator."""
    segment = spool.append(messages("c", 3))
    data = bytearray(segment.path.read_bytes())
    data[-1] ^= 0xFF
    segment.path.write_bytes(bytes(data))
    before = metrics.SPOOL_CORRUPT._value.get()
    with pytest.raises(SpoolCorruptError):
        spool.read(segment)
    assert segment.path.with_suffix(".corrupt").exists()
    assert spool.batches == 0
    assert metrics.SPOOL_CORRUPT._value.get() == before + 1


def test_unfinished_write_from_a_crash_is_removed_at_start(tmp_path: Path) -> None:
    """A *.tmp file was never acked (the broker still has its messages): it is dropped."""
    directory = tmp_path / "spool"
    directory.mkdir()
    (directory / "000000000001-x.tmp").write_bytes(b"half a batch")
    spool = Spool(directory)
    try:
        assert spool.batches == 0
        assert not list(directory.glob("*.tmp"))
    finally:
        spool.close()


def test_a_second_process_cannot_share_a_spool(spool: Spool) -> None:
    """Sequence numbers assume one owner: a second opener is refused, loudly."""
    with pytest.raises(SpoolLockedError):
        Spool(spool.directory)


def test_full_disk_raises_and_leaves_no_partial_batch(tmp_path: Path) -> None:
    """ENOSPC surfaces as OSError; nothing half-written is left to be replayed."""
    with tiny_filesystem(tmp_path / "small", "32k") as directory:
        spool = Spool(directory / "spool")
        try:
            batch = messages("full", 200)
            with pytest.raises(OSError, match="No space left"):  # noqa: PT012 - fill it up
                for _ in range(100):
                    spool.append(batch)
            assert not list((directory / "spool").glob("*.tmp"))
            assert all(spool.read(s) for s in spool.segments())
        finally:
            spool.close()


@pytest.mark.postgres
def test_a_replay_cut_short_after_commit_is_not_applied_twice(
    tmp_path: Path, database_url: str
) -> None:
    """The replayed segment is recorded in the same transaction: a second replay skips it."""
    tag = f"rp-{uuid.uuid4().hex[:8]}"
    bad = Inbound(f"dw/v1/readings/{tag}", b"not json", time.time())
    directory = tmp_path / "spool"
    spool = Spool(directory)
    segment = spool.append([*messages(tag, 5), bad])
    kept = tmp_path / "copy.spool"
    shutil.copy(segment.path, kept)
    config = WriterConfig(database_url, "", DEFAULT_ROUTER, DEFAULT_LIMITS, db_retry_s=0.05)

    def replay_all(s: Spool) -> None:
        writer = BatchWriter(config, s, on_done=lambda: None)
        writer.start()
        wait_until(lambda: s.batches == 0, timeout_s=10)
        writer.close()

    replay_all(spool)
    spool.close()
    shutil.copy(kept, segment.path)  # as if the process died before deleting the file
    again = Spool(directory)
    try:
        assert again.batches == 1
        replay_all(again)
    finally:
        again.close()
    with psycopg.connect(database_url) as conn:
        readings = conn.execute(
            "SELECT count(*) FROM readings WHERE sensor_id = %s", (tag,)
        ).fetchone()
        rejected = conn.execute(
            "SELECT count(*) FROM rejected_messages WHERE topic = %s", (bad.topic,)
        ).fetchone()
    assert (readings, rejected) == ((5,), (1,))
