//! Statements written out by hand so that diesel caches them: diesel marks every
//! `UPDATE` built with its DSL as not cacheable, and SQLite would compile such a
//! statement again on every run. Only for statements on hot paths. Also [`by_keys`],
//! lookups by a list of keys that stay cached on both backends.

use diesel::QueryResult;

use super::{DbConn, StoreError};

/// Declares a statement type with a static query id: the SQL before the first bind,
/// then each bound field with its SQL type and the SQL that follows it. A statement
/// that returns rows names their SQL types after `->`, and is then a query too
/// (`get_result`, `load`).
macro_rules! cached_statement {
    (
        $(#[$meta:meta])*
        $name:ident<$a:lifetime> -> $rows:ty = $head:literal {
            $($field:ident: $rust:ty as $sql:ty => $after:literal),+ $(,)?
        }
    ) => {
        $crate::store::cached::cached_statement! {
            $(#[$meta])*
            $name<$a> = $head { $($field: $rust as $sql => $after),+ }
        }

        impl<$a> diesel::query_builder::Query for $name<$a> {
            type SqlType = $rows;
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident<$a:lifetime> = $head:literal {
            $($field:ident: $rust:ty as $sql:ty => $after:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub(super) struct $name<$a> {
            $(pub(super) $field: $rust,)+
        }

        impl<$a> diesel::query_builder::QueryId for $name<$a> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<$a, DB> diesel::query_builder::QueryFragment<DB> for $name<$a>
        where
            DB: diesel::backend::Backend,
            $($rust: diesel::serialize::ToSql<$sql, DB>,)+
        {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($head);
                $(
                    out.push_bind_param::<$sql, _>(&self.$field)?;
                    out.push_sql($after);
                )+
                Ok(())
            }
        }

        impl<$a, Conn> diesel::RunQueryDsl<Conn> for $name<$a> {}
    };
}

pub(super) use cached_statement;

/// Rows for a list of keys, read the way each backend reads them fastest. PostgreSQL:
/// one statement, `= ANY($1)`, cached, one round trip. SQLite: one cached statement per
/// key, since diesel cannot cache `IN (?, …)` (its text varies with the count) and
/// SQLite would compile it at every run, while a cached key lookup runs in-process in a
/// few microseconds.
pub(super) fn by_keys<T>(
    c: &mut DbConn,
    keys: &[&str],
    all_at_once: impl FnOnce(&mut DbConn, &[&str]) -> QueryResult<Vec<T>>,
    one: impl Fn(&mut DbConn, &str) -> QueryResult<Vec<T>>,
) -> Result<Vec<T>, StoreError> {
    if matches!(c, DbConn::Pg(_)) {
        return Ok(all_at_once(c, keys)?);
    }
    let mut rows = Vec::new();
    for key in keys {
        rows.extend(one(c, key)?);
    }
    Ok(rows)
}
