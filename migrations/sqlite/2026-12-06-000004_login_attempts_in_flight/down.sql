ALTER TABLE login_failures DROP COLUMN in_flight;
