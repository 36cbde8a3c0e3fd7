"""From readings to MQTT messages: grouping into backlogs, duplicates, what waits for reconnect.

A device that was offline sends what it stored when it reconnects (`sent_at`); until the
simulated clock gets there those readings wait here. Backlog formats put a device's readings
that leave together into one message (history: up to 2,000 per message); the others send one
message per reading. A duplicate is the same message published twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dampsim.firmware import Readings
from dampsim.fleet import HomeBatch
from dampsim.formats import (
    BACKLOG_FORMATS,
    MAX_ROWS_PER_MESSAGE,
    Device,
    Row,
    encoder_for,
)
from dampsim.outdoor import outdoor_messages, outdoor_topic
from dampsim.publisher import Publisher

# A reading with no timestamp of its own is stamped on arrival: send it only when it is fresh.
UNTIMESTAMPED_MAX_AGE_S = 120.0


@dataclass(slots=True)
class SendStats:
    readings: int = 0
    messages: int = 0
    duplicates: int = 0
    skipped_untimestamped: int = 0
    outdoor_readings: int = 0


@dataclass(slots=True)
class _Pending:
    batch: HomeBatch
    readings: Readings


def devices_of(batch: HomeBatch) -> list[Device]:
    return [
        Device(s.sensor_id, s.payload_format, s.lpp_encoded, home.borough_code, s.key)
        for home in batch.homes
        for s in home.sensors
    ]


@dataclass
class Sender:
    publisher: Publisher
    prefix: str
    stats: SendStats = field(default_factory=SendStats)
    _devices: dict[int, list[Device]] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)
    _retired_waiting: int = 0
    _retired_sensors: int = 0

    @property
    def waiting_readings(self) -> int:
        """Readings whose devices are still offline, waiting to send them."""
        return self._retired_waiting + sum(len(p.readings) for p in self._pending)

    @property
    def sensor_count(self) -> int:
        return self._retired_sensors + sum(len(d) for d in self._devices.values())

    def add_batch(self, batch: HomeBatch) -> None:
        self._devices[id(batch)] = devices_of(batch)

    def retire(self, batch: HomeBatch) -> None:
        """Forget a batch that will not run on (backfill, load): its devices still offline keep
        their readings, counted in `waiting_readings`, and the batch's memory is released."""
        kept = []
        for item in self._pending:
            if item.batch is batch:
                self._retired_waiting += len(item.readings)
            else:
                kept.append(item)
        self._pending = kept
        self._retired_sensors += len(self._devices.pop(id(batch), []))

    def send_history(
        self, batch: HomeBatch, readings: Readings, *, now_s: int, wall_s: float
    ) -> None:
        """Send what has left the devices by `now_s`, in long backlogs; keep the rest."""
        due = readings.sent_at <= now_s
        self._keep(batch, readings.select(~due))
        self._publish(batch, readings.select(due), wall_s, group_by_sent=False)

    def send_live(self, batch: HomeBatch, readings: Readings, *, now_s: int, wall_s: float) -> None:
        due = readings.sent_at <= now_s
        self._keep(batch, readings.select(~due))
        self._publish(batch, readings.select(due), wall_s, group_by_sent=False)

    def send_due(self, now_s: int, wall_s: float) -> None:
        """Send the backlogs of devices that have reconnected by `now_s`."""
        waiting, self._pending = self._pending, []
        for item in waiting:
            due = item.readings.sent_at <= now_s
            self._keep(item.batch, item.readings.select(~due))
            self._publish(item.batch, item.readings.select(due), wall_s, group_by_sent=True)

    def send_outdoor(
        self, seed: int, borough_codes: tuple[str, ...], start_s: int, end_s: int
    ) -> None:
        """Publish each borough's hourly weather for the whole hours in [start_s, end_s)."""
        for code, payload, count in outdoor_messages(seed, borough_codes, start_s, end_s):
            self.publisher.publish(outdoor_topic(self.prefix, code), payload)
            self.stats.messages += 1
            self.stats.outdoor_readings += count

    def send_each(self, batch: HomeBatch, readings: Readings, *, wall_s: float) -> int:
        """One message per reading, in the order given; returns how many were sent."""
        devices = self._devices[id(batch)]
        sent = 0
        for i in range(len(readings)):
            device = devices[int(readings.sensor[i])]
            sent += self._send(device, [_row(readings, i)], wall_s, readings.duplicate[i])
        return sent

    def _keep(self, batch: HomeBatch, readings: Readings) -> None:
        if len(readings):
            self._pending.append(_Pending(batch, readings))

    def _publish(
        self, batch: HomeBatch, readings: Readings, wall_s: float, *, group_by_sent: bool
    ) -> None:
        if not len(readings):
            return
        devices = self._devices[id(batch)]
        sent_key = readings.sent_at if group_by_sent else np.zeros_like(readings.sent_at)
        order = np.lexsort((readings.recorded_at, sent_key, readings.sensor))
        sensor, sent = readings.sensor[order], sent_key[order]
        cuts = np.flatnonzero((np.diff(sensor) != 0) | (np.diff(sent) != 0)) + 1
        for group in np.split(order, cuts):
            device = devices[int(readings.sensor[group[0]])]
            rows = [_row(readings, int(i)) for i in group]
            if device.payload_format in BACKLOG_FORMATS:
                for lo in range(0, len(rows), MAX_ROWS_PER_MESSAGE):
                    self._send(device, rows[lo : lo + MAX_ROWS_PER_MESSAGE], wall_s, False)
                for i in group[readings.duplicate[group]]:
                    self._send(device, [_row(readings, int(i))], wall_s, False)
                    self.stats.duplicates += 1
                    self.stats.readings -= 1
            else:
                for i, row in zip(group, rows, strict=True):
                    self._send(device, [row], wall_s, bool(readings.duplicate[i]))

    def _send(self, device: Device, rows: list[Row], wall_s: float, duplicate: bool) -> int:
        """Publish one message (twice if `duplicate`); returns the readings sent."""
        encoder = encoder_for(device.payload_format)
        if wall_s - rows[0].recorded_at > UNTIMESTAMPED_MAX_AGE_S and not encoder.carries_time(
            device
        ):
            self.stats.skipped_untimestamped += len(rows)
            return 0
        topic = encoder.topic(self.prefix, device)
        payload = encoder.encode(device, rows)
        for _ in range(2 if duplicate else 1):
            self.publisher.publish(topic, payload)
            self.stats.messages += 1
        self.stats.readings += len(rows)
        if duplicate:
            self.stats.duplicates += 1
        return len(rows)


def _row(readings: Readings, i: int) -> Row:
    recorded = int(readings.recorded_at[i])
    return Row(
        recorded,
        float(readings.temperature_c[i]),
        float(readings.humidity_pct[i]),
        float(readings.battery_pct[i]),
        counter=recorded // 60,
    )
