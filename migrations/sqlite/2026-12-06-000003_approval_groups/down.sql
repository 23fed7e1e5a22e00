DROP INDEX approvals_pending;
DROP TABLE approval_groups;
