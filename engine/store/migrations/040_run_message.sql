-- Why a run stopped or failed, and what to do next (e.g. "stopped at the cost budget ...; rerun to continue").
ALTER TABLE runs ADD COLUMN message VARCHAR;
