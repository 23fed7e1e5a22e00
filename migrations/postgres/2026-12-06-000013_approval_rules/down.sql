ALTER TABLE scopes DROP COLUMN subject_confirms;
ALTER TABLE action_types DROP COLUMN hook_failure;
ALTER TABLE action_types DROP COLUMN hook_timeout_ms;
ALTER TABLE action_types DROP COLUMN hook_url;
DROP TABLE approval_rules;
