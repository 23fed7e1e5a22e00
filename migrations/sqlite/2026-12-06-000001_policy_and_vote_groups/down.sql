ALTER TABLE approval_decisions ADD COLUMN group_name TEXT NOT NULL DEFAULT '';
UPDATE approval_decisions SET group_name = coalesce((
    SELECT group_concat(g.group_name, ',') FROM (
        SELECT group_name FROM approval_decision_groups
        WHERE approval_id = approval_decisions.approval_id
          AND approver_id = approval_decisions.approver_id
        ORDER BY group_name) g), '');
DROP TABLE approval_decision_groups;

ALTER TABLE scopes ADD COLUMN approver_groups TEXT NOT NULL DEFAULT '[]';
UPDATE scopes SET approver_groups = coalesce((
    SELECT json_group_array(CASE WHEN a.quorum IS NULL THEN a.group_name
                                 ELSE a.group_name || ':' || a.quorum END)
    FROM (SELECT * FROM scope_approver_groups WHERE scope_name = scopes.name ORDER BY position) a), '[]');
DROP TABLE scope_approver_groups;
