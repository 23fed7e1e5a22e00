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
       CAST(j.key AS INTEGER),
       CASE WHEN instr(j.value, ':') > 0 THEN substr(j.value, 1, instr(j.value, ':') - 1)
            ELSE j.value END,
       CASE WHEN instr(j.value, ':') > 0 THEN CAST(substr(j.value, instr(j.value, ':') + 1) AS INTEGER)
            ELSE NULL END
FROM scopes s, json_each(s.approver_groups) j;

ALTER TABLE scopes DROP COLUMN approver_groups;

CREATE TABLE approval_decision_groups (
    approval_id TEXT NOT NULL,
    approver_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (approval_id, approver_id, group_name),
    FOREIGN KEY (approval_id, approver_id)
        REFERENCES approval_decisions (approval_id, approver_id) ON DELETE CASCADE
);

-- Group names cannot hold commas, quotes or backslashes (manage::groups), so a
-- comma-joined list turns into a JSON array by replacing its commas.
INSERT INTO approval_decision_groups (approval_id, approver_id, group_name)
SELECT DISTINCT d.approval_id, d.approver_id, j.value
FROM approval_decisions d, json_each('["' || replace(d.group_name, ',', '","') || '"]') j
WHERE j.value <> '';

ALTER TABLE approval_decisions DROP COLUMN group_name;
