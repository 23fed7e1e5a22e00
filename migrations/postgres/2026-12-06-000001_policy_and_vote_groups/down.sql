ALTER TABLE approval_decisions ADD COLUMN group_name TEXT NOT NULL DEFAULT '';
UPDATE approval_decisions d SET group_name = coalesce((
    SELECT string_agg(g.group_name, ',' ORDER BY g.group_name) FROM approval_decision_groups g
    WHERE g.approval_id = d.approval_id AND g.approver_id = d.approver_id), '');
DROP TABLE approval_decision_groups;

ALTER TABLE scopes ADD COLUMN approver_groups TEXT NOT NULL DEFAULT '[]';
UPDATE scopes s SET approver_groups = coalesce((
    SELECT '[' || string_agg(to_json(CASE WHEN a.quorum IS NULL THEN a.group_name
                          ELSE a.group_name || ':' || a.quorum END)::TEXT, ',' ORDER BY a.position) || ']'
    FROM scope_approver_groups a WHERE a.scope_name = s.name), '[]');
DROP TABLE scope_approver_groups;
