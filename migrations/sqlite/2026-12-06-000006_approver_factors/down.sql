DROP TABLE recovery_codes;
DROP TABLE totp_credentials;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE approval_decisions DROP COLUMN credential_id;
ALTER TABLE approval_decisions DROP COLUMN amr;
ALTER TABLE scopes DROP COLUMN approver_factor;
