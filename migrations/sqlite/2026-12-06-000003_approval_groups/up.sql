-- The groups each approval needs, as rows, so the approver inbox is one indexed query
-- (issue 17: it used to load the newest 500 pending approvals and filter them in code).
CREATE TABLE approval_groups (
    approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    PRIMARY KEY (approval_id, group_name)
);
CREATE INDEX approval_groups_by_group ON approval_groups (group_name);
CREATE INDEX approvals_pending ON approvals (state, created_at);

INSERT OR IGNORE INTO approval_groups (approval_id, group_name)
SELECT a.id, json_extract(g.value, '$.group')
FROM approvals a, json_each(json_extract(a.requirements, '$.groups')) g
WHERE json_extract(g.value, '$.group') IS NOT NULL;
