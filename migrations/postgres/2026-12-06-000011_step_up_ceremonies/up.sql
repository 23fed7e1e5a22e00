-- A fourth WebAuthn ceremony: a passkey confirmed inside a session (a step-up, for the
-- account page's factor changes and the console's admin_factor).
ALTER TABLE webauthn_ceremonies DROP CONSTRAINT webauthn_ceremonies_purpose_check;
ALTER TABLE webauthn_ceremonies ADD CONSTRAINT webauthn_ceremonies_purpose_check
    CHECK (purpose IN ('register', 'approve', 'login', 'step-up'));
