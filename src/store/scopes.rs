//! Scopes and their approval policies; the groups a policy requires are rows of
//! `scope_approver_groups`, in the order they were given.

use diesel::prelude::*;

use super::cached::by_keys;
use super::schema::{scope_approver_groups, scopes};
use super::{DbConn, StoreError};
use crate::approval::policy::ApproverGroup;
use crate::approval::ApproverFactor;

/// A scope: description, claims and the approval policy (durations in seconds).
#[derive(Debug, Clone, serde::Serialize)]
#[allow(missing_docs)]
pub struct ScopeRow {
    pub name: String,
    pub description: String,
    pub claims: String,
    pub builtin: bool,
    pub sensitive: bool,
    pub approver_groups: Vec<ApproverGroup>,
    pub quorum: i32,
    pub pending_ttl: i64,
    pub access_duration: i64,
    pub require_justification: bool,
    pub approver_max_age: i64,
    pub allow_chat_decisions: bool,
    pub approver_factor: ApproverFactor,
    pub policy_version: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// The subject (the user a request is for) must confirm too.
    pub subject_confirms: bool,
}

/// The columns of `scopes` (the approver groups live in their own table).
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scopes)]
struct ScopeColumns {
    name: String,
    description: String,
    claims: String,
    builtin: bool,
    sensitive: bool,
    quorum: i32,
    pending_ttl: i64,
    access_duration: i64,
    require_justification: bool,
    approver_max_age: i64,
    allow_chat_decisions: bool,
    approver_factor: ApproverFactor,
    policy_version: i32,
    created_at: i64,
    updated_at: i64,
    subject_confirms: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = scope_approver_groups)]
struct ApproverGroupRow {
    scope_name: String,
    position: i32,
    group_name: String,
    quorum: Option<i32>,
}

impl ScopeColumns {
    fn of(row: &ScopeRow) -> Self {
        Self {
            name: row.name.clone(),
            description: row.description.clone(),
            claims: row.claims.clone(),
            builtin: row.builtin,
            sensitive: row.sensitive,
            quorum: row.quorum,
            pending_ttl: row.pending_ttl,
            access_duration: row.access_duration,
            require_justification: row.require_justification,
            approver_max_age: row.approver_max_age,
            allow_chat_decisions: row.allow_chat_decisions,
            approver_factor: row.approver_factor,
            policy_version: row.policy_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            subject_confirms: row.subject_confirms,
        }
    }

    fn with_groups(self, approver_groups: Vec<ApproverGroup>) -> ScopeRow {
        ScopeRow {
            name: self.name,
            description: self.description,
            claims: self.claims,
            builtin: self.builtin,
            sensitive: self.sensitive,
            approver_groups,
            quorum: self.quorum,
            pending_ttl: self.pending_ttl,
            access_duration: self.access_duration,
            require_justification: self.require_justification,
            approver_max_age: self.approver_max_age,
            allow_chat_decisions: self.allow_chat_decisions,
            approver_factor: self.approver_factor,
            policy_version: self.policy_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            subject_confirms: self.subject_confirms,
        }
    }
}

/// Replaces the approver groups of a scope.
fn write_groups(c: &mut DbConn, row: &ScopeRow) -> Result<(), StoreError> {
    diesel::delete(
        scope_approver_groups::table.filter(scope_approver_groups::scope_name.eq(&row.name)),
    )
    .execute(c)?;
    // One statement per group: the multi-backend connection has no batch insert.
    for (position, group) in row.approver_groups.iter().enumerate() {
        diesel::insert_into(scope_approver_groups::table)
            .values(ApproverGroupRow {
                scope_name: row.name.clone(),
                position: i32::try_from(position)
                    .map_err(|_| StoreError::Corrupt("too many approver groups".into()))?,
                group_name: group.group.clone(),
                quorum: group.quorum,
            })
            .execute(c)?;
    }
    Ok(())
}

/// Attaches to each scope its approver groups, in order.
fn with_groups(c: &mut DbConn, columns: Vec<ScopeColumns>) -> Result<Vec<ScopeRow>, StoreError> {
    let names: Vec<&str> = columns.iter().map(|s| s.name.as_str()).collect();
    let ordered = (
        scope_approver_groups::scope_name.asc(),
        scope_approver_groups::position.asc(),
    );
    let groups: Vec<ApproverGroupRow> = by_keys(
        c,
        &names,
        |c, names| {
            scope_approver_groups::table
                .filter(scope_approver_groups::scope_name.eq_any(names))
                .order(ordered)
                .select(ApproverGroupRow::as_select())
                .load(c)
        },
        |c, name| {
            scope_approver_groups::table
                .filter(scope_approver_groups::scope_name.eq(name))
                .order(ordered)
                .select(ApproverGroupRow::as_select())
                .load(c)
        },
    )?;
    Ok(columns
        .into_iter()
        .map(|scope| {
            let own = groups
                .iter()
                .filter(|g| g.scope_name == scope.name)
                .map(|g| ApproverGroup {
                    group: g.group_name.clone(),
                    quorum: g.quorum,
                })
                .collect();
            scope.with_groups(own)
        })
        .collect())
}

/// Inserts a scope with its approver groups.
pub fn insert_scope(c: &mut DbConn, row: &ScopeRow) -> Result<(), StoreError> {
    diesel::insert_into(scopes::table)
        .values(ScopeColumns::of(row))
        .execute(c)?;
    write_groups(c, row)
}

/// Replaces every column and the approver groups of an existing scope.
pub fn update_scope(c: &mut DbConn, row: &ScopeRow) -> Result<(), StoreError> {
    match diesel::update(scopes::table.find(&row.name))
        .set(ScopeColumns::of(row))
        .execute(c)?
    {
        1 => write_groups(c, row),
        _ => Err(StoreError::NotFound),
    }
}

/// The scope with this name.
pub fn scope_by_name(c: &mut DbConn, name: &str) -> Result<Option<ScopeRow>, StoreError> {
    let found = scopes::table
        .find(name)
        .select(ScopeColumns::as_select())
        .get_result(c)
        .optional()?;
    Ok(with_groups(c, found.into_iter().collect())?.pop())
}

/// The scopes of these names that exist, in the order named (each once), with their
/// approver groups: on PostgreSQL two statements however many there are (one per
/// scope, twice, was most of an approval page's round trips).
pub fn scopes_by_names(c: &mut DbConn, names: &[&str]) -> Result<Vec<ScopeRow>, StoreError> {
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        if !unique.contains(name) {
            unique.push(name);
        }
    }
    let found = by_keys(
        c,
        &unique,
        |c, names| {
            scopes::table
                .filter(scopes::name.eq_any(names))
                .select(ScopeColumns::as_select())
                .load(c)
        },
        |c, name| {
            scopes::table
                .find(name)
                .select(ScopeColumns::as_select())
                .load(c)
        },
    )?;
    let mut rows = with_groups(c, found)?;
    let position = |name: &str| names.iter().position(|n| *n == name);
    rows.sort_by_key(|row| position(&row.name));
    Ok(rows)
}

/// Whether the scope with this name needs a countersignature (`None`: no such scope).
/// One cached statement, without the approver groups (the client_credentials path).
pub fn scope_is_sensitive(c: &mut DbConn, name: &str) -> Result<Option<bool>, StoreError> {
    Ok(scopes::table
        .find(name)
        .select(scopes::sensitive)
        .get_result(c)
        .optional()?)
}

/// Every scope, by name.
pub fn list_scopes(c: &mut DbConn) -> Result<Vec<ScopeRow>, StoreError> {
    let all = scopes::table
        .order(scopes::name.asc())
        .select(ScopeColumns::as_select())
        .load(c)?;
    with_groups(c, all)
}

/// The claim lists (JSON text) of the scopes named, in one query: what a token's
/// scopes release (`oidc::claims`), read at every token and userinfo request.
pub fn claim_lists_of(c: &mut DbConn, names: &[&str]) -> Result<Vec<String>, StoreError> {
    by_keys(
        c,
        names,
        |c, names| {
            scopes::table
                .filter(scopes::name.eq_any(names))
                .select(scopes::claims)
                .load(c)
        },
        |c, name| scopes::table.find(name).select(scopes::claims).load(c),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{insert_group, GroupRow};

    #[test]
    fn scopes_by_names_keeps_the_order_named_and_each_scope_its_own_groups() {
        let (_dir, store) = super::super::cache_tests::sqlite();
        let mut c = store.conn().unwrap();
        for name in ["finance", "security"] {
            let group = GroupRow {
                id: name.into(),
                name: name.into(),
                created_at: 0,
            };
            insert_group(&mut c, &group).unwrap();
        }
        let mut payments = scope_by_name(&mut c, "openid").unwrap().unwrap();
        payments.name = "payments:write".into();
        payments.sensitive = true;
        payments.approver_groups = vec![
            ApproverGroup {
                group: "security".into(),
                quorum: Some(2),
            },
            ApproverGroup {
                group: "finance".into(),
                quorum: None,
            },
        ];
        insert_scope(&mut c, &payments).unwrap();

        let names = ["payments:write", "unknown", "openid", "payments:write"];
        let rows = scopes_by_names(&mut c, &names).unwrap();

        let found: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(found, ["payments:write", "openid"]);
        let groups: Vec<(&str, Option<i32>)> = rows[0]
            .approver_groups
            .iter()
            .map(|g| (g.group.as_str(), g.quorum))
            .collect();
        assert_eq!(groups, [("security", Some(2)), ("finance", None)]);
        assert!(rows[1].approver_groups.is_empty());
        assert!(scopes_by_names(&mut c, &[]).unwrap().is_empty());
    }
}
