-- The groups a scope's policy requires, and the groups a vote counted for, become rows
-- of child tables instead of JSON / comma-joined text (issue 15).

CREATE TABLE scope_approver_groups (
    scope_name TEXT NOT NULL REFERENCES scopes (name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    group_name TEXT NOT NULL REFERENCES groups (name),
    -- NULL: the scope's own quorum applies ("GROUP"); else "GROUP:N".
    quorum INTEGER CHECK (quorum IS NULL OR quorum >= 1),
    PRIMARY KEY (scope_name, position)
);

INSERT INTO scope_approver_groups (scope_name, position, group_name, quorum)
SELECT s.name,
       (j.ordinality - 1)::INTEGER,
       split_part(j.value, ':', 1),
       CASE WHEN position(':' IN j.value) > 0 THEN split_part(j.value, ':', 2)::INTEGER
            ELSE NULL END
FROM scopes s, jsonb_array_elements_text(s.approver_groups::jsonb) WITH ORDINALITY AS j (value, ordinality);

ALTER TABLE scopes DROP COLUMN approver_groups;

CREATE TABLE approval_decision_groups (
    approval_id TEXT NOT NULL,
    approver_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (approval_id, approver_id, group_name),
    FOREIGN KEY (approval_id, approver_id)
        REFERENCES approval_decisions (approval_id, approver_id) ON DELETE CASCADE
);

INSERT INTO approval_decision_groups (approval_id, approver_id, group_name)
SELECT DISTINCT d.approval_id, d.approver_id, g.name
FROM approval_decisions d, unnest(string_to_array(d.group_name, ',')) AS g (name)
WHERE g.name <> '';

ALTER TABLE approval_decisions DROP COLUMN group_name;
