-- The alert rules read each home's home-level assessments (room_id NULL) newest first: the
-- latest one, and back through its current run of bands to where that run began. The scoring
-- job writes a row per room and per home every run, so over a winter a home has thousands of
-- rows; this index holds only the home-level ones, with the band, so the walk back stays in
-- the index and never reads room rows or their details.
CREATE INDEX risk_assessments_home_level_idx
    ON risk_assessments (uprn, assessed_at DESC) INCLUDE (band)
    WHERE room_id IS NULL;
