DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;
DROP TRIGGER IF EXISTS audit_checkpoints_no_update;
DROP TABLE audit_checkpoints;
