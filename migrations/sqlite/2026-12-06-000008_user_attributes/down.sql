DELETE FROM scopes WHERE name = 'groups' AND builtin;
DROP TABLE user_attributes;
