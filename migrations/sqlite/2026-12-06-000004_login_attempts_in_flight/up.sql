-- Attempts being checked right now are counted apart from confirmed failures (issue
-- 17): they still bound parallel guessing, but only failures lock an account.
ALTER TABLE login_failures ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
