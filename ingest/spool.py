"""The durable local spool: batches taken while the database is unreachable.

One file per batch, named by a sequence number so replay keeps arrival order:

    000000000042-<uuid>.spool   magic (8 bytes) | body length (u32) | CRC-32 (u32) | body

The body is the batch's raw messages (topic, payload, received_at) in MessagePack, so replay
decodes them exactly as they would have been decoded live, against their own receive time. A file
is written as `.tmp`, fsynced, renamed, and the directory fsynced: only then are the messages
acked. A `.tmp` left by a crash was never acked (the broker still holds its messages) and is
removed. A `.spool` file that fails its checksum is renamed `.corrupt`, counted and logged as an
error, never deleted: an operator decides.

The segment's uuid is recorded in `ingest_spool_replays` in the transaction that replays it, so
a crash between COMMIT and deleting the file cannot replay it twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ingest.batch import Inbound

logger = logging.getLogger(__name__)

MAGIC = b"DWSPOOL1"
HEADER = struct.Struct(">8sII")


class SpoolLockedError(RuntimeError):
    """Another process owns this spool directory."""


class SpoolCorruptError(ValueError):
    """A spool file whose header or checksum is wrong; it is kept aside, not replayed."""


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    sequence: int
    segment_id: str
    messages: int


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[str, bytes, float]])


class Spool:
    """Append-only batch files in one directory, owned by one ingest process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        # Sequence numbers and trimming assume one owner: a second process fails here, loudly.
        self._lock_fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            os.close(self._lock_fd)
            raise SpoolLockedError(f"spool {directory} is in use by another process") from err
        for leftover in directory.glob("*.tmp"):
            logger.warning("removing %s: a spool write cut short, never acked", leftover.name)
            leftover.unlink()
        self._segments: list[Segment] = []
        for path in sorted(directory.glob("*.spool")):
            sequence, _, segment_id = path.stem.partition("-")
            try:
                messages = len(self._read_path(path))
            except SpoolCorruptError as err:
                self._set_aside(path, err)
                continue
            self._segments.append(Segment(path, int(sequence), segment_id, messages))
        self._next_sequence = max((s.sequence for s in self._segments), default=0) + 1
        if self._segments:
            logger.warning(
                "spool %s holds %d batches (%d messages) to replay",
                directory,
                len(self._segments),
                self.messages,
            )

    @property
    def batches(self) -> int:
        return len(self._segments)

    @property
    def messages(self) -> int:
        return sum(s.messages for s in self._segments)

    def segments(self) -> list[Segment]:
        """Waiting batches, oldest first."""
        return list(self._segments)

    def append(self, messages: list[Inbound]) -> Segment:
        """Write one batch durably; OSError (disk full, ...) leaves no visible file behind."""
        body = _encoder.encode([tuple(m) for m in messages])
        header = HEADER.pack(MAGIC, len(body), zlib.crc32(body))
        segment_id = uuid.uuid4().hex
        sequence = self._next_sequence
        final = self.directory / f"{sequence:012d}-{segment_id}.spool"
        temporary = final.with_suffix(".tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(header + body)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, final)
            self._fsync_directory()
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        self._next_sequence += 1
        segment = Segment(final, sequence, segment_id, len(messages))
        self._segments.append(segment)
        return segment

    def read(self, segment: Segment) -> list[Inbound]:
        try:
            return self._read_path(segment.path)
        except SpoolCorruptError as err:
            self._set_aside(segment.path, err)
            self._segments.remove(segment)
            raise

    def remove(self, segment: Segment) -> None:
        """Trim a replayed batch."""
        segment.path.unlink(missing_ok=True)
        self._segments.remove(segment)
        self._fsync_directory()

    def close(self) -> None:
        """Release the directory (the lock also goes when the process dies). Idempotent."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _read_path(self, path: Path) -> list[Inbound]:
        data = path.read_bytes()
        if len(data) < HEADER.size:
            raise SpoolCorruptError(f"{path.name}: shorter than its header")
        magic, length, crc = HEADER.unpack_from(data)
        body = data[HEADER.size :]
        if magic != MAGIC or length != len(body) or zlib.crc32(body) != crc:
            raise SpoolCorruptError(f"{path.name}: bad header or checksum")
        try:
            rows = _decoder.decode(body)
        except msgspec.MsgspecError as err:
            raise SpoolCorruptError(f"{path.name}: {err}") from err
        return [Inbound(topic, payload, received_at) for topic, payload, received_at in rows]

    def _set_aside(self, path: Path, err: SpoolCorruptError) -> None:
        from ingest import metrics

        aside = path.with_suffix(".corrupt")
        path.rename(aside)
        metrics.SPOOL_CORRUPT.inc()
        logger.error(
            "spool file set aside as %s, NOT replayed: %s. Its messages were acked; inspect it "
            "and replay it by renaming it back to .spool once repaired.",
            aside,
            err,
        )

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
