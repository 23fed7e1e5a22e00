DROP TABLE approval_rules;
