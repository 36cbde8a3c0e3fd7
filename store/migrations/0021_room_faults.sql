-- A sensor fault, once found, stays with its room until the room's sensors change (a new or
-- closed placement): a fault's signature fades from the recent weeks as the faulty readings
-- become the room's new normal, and a mould alert must not follow from them.
ALTER TABLE room_model_states
    ADD COLUMN fault_kind       text,
    ADD COLUMN fault_since      timestamptz,
    ADD COLUMN fault_evidence   jsonb,
    ADD COLUMN fault_sensor_ids text[];
