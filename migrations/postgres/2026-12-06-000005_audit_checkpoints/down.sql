DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints;
DROP FUNCTION IF EXISTS audit_checkpoints_append_only();
DROP TABLE audit_checkpoints;
