DELETE FROM webauthn_ceremonies WHERE purpose = 'step-up';
ALTER TABLE webauthn_ceremonies DROP CONSTRAINT webauthn_ceremonies_purpose_check;
ALTER TABLE webauthn_ceremonies ADD CONSTRAINT webauthn_ceremonies_purpose_check
    CHECK (purpose IN ('register', 'approve', 'login'));
