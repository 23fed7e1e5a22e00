-- Issue 21: a client may take ES256 or EdDSA JWT access tokens instead of RS256.
ALTER TABLE clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'RS256'
    CHECK (access_token_alg IN ('RS256', 'ES256', 'EdDSA'));
