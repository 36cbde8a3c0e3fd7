-- Hours heard whose humidity no air can have (0 %RH from a failed humidity element): they are
-- left out of every humidity-derived sum of the day, so those sums' means divide by
-- hours_observed - hours_humidity_invalid. Rows written before this column held no such hours.
ALTER TABLE room_daily_conditions
    ADD COLUMN hours_humidity_invalid integer NOT NULL DEFAULT 0;

-- How far the scoring job's retention of risk_assessments has got in each borough: every UTC
-- day before `thinned_before` keeps only each subject's last row of the day and the rows where
-- its band, listed faults or model version changed (models.assessments.thin_assessments).
CREATE TABLE assessment_retention (
    borough_code   text PRIMARY KEY REFERENCES boroughs (gss_code),
    thinned_before date NOT NULL
);
