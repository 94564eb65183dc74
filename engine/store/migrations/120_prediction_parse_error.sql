-- Why a parse failed when it did not run to the end (it ran past the per-answer time limit).
ALTER TABLE predictions ADD COLUMN parse_error VARCHAR;
