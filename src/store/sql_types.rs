//! How domain types are stored: every lifecycle enum and every identifier newtype is a
//! `TEXT` column (STYLE.md §2.3: portable types only), written with its one spelling
//! and read back through `FromSql`. A stored name that does not parse is a
//! deserialization error, which [`StoreError`](super::StoreError) reports as `Corrupt`:
//! never a silent default.
//!
//! The diesel impls live here so that the domain modules that declare the types
//! (`approval`, `oidc`, `crypto`, `ids`) never import diesel. `foreign_derive` lets
//! diesel's own derives target a type through a proxy declared in this file.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::approval::hooks::HookFailure;
use crate::approval::{ApprovalState, ApproverFactor, Decision};
use crate::crypto::{KeyAlg, KeyState};
use crate::ids::{ApprovalId, ClientId, GrantId, RequestId, UserId};
use crate::oidc::authorize::RequestState;
use crate::oidc::ciba::{BackchannelState, DeliveryMode};
use crate::scope_set::ScopeSet;

/// Maps `$ty` to a `TEXT` column: `$write(&value) -> &str` and
/// `$read(&str) -> Option<$ty>` (`None` is corrupt data).
macro_rules! text_column {
    ($ty:ty, $proxy:ident, $write:expr, $read:expr) => {
        #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(foreign_derive, sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                let write: fn(&$ty) -> &str = $write;
                <str as ToSql<Text, DB>>::to_sql(write(self), out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                let read: fn(&str) -> Option<$ty> = $read;
                read(&text)
                    .ok_or_else(|| format!("{:?} is not a valid {}", text, stringify!($ty)).into())
            }
        }
    };
}

/// A named enum: its `as_str` is what is stored, its `parse` what is accepted back.
macro_rules! enum_column {
    ($ty:ty, $proxy:ident) => {
        text_column!($ty, $proxy, |v| v.as_str(), <$ty>::parse);
    };
}

/// An identifier: stored as it is; an empty value is corrupt.
macro_rules! id_column {
    ($ty:ty, $proxy:ident) => {
        text_column!($ty, $proxy, |v| v.as_str(), |text| {
            (!text.is_empty()).then(|| <$ty>::new(text))
        });
    };
}

enum_column!(ApprovalState, ApprovalStateColumn);
enum_column!(Decision, DecisionColumn);
enum_column!(ApproverFactor, ApproverFactorColumn);
enum_column!(RequestState, RequestStateColumn);
enum_column!(KeyState, KeyStateColumn);
enum_column!(KeyAlg, KeyAlgColumn);
enum_column!(DeliveryMode, DeliveryModeColumn);
enum_column!(HookFailure, HookFailureColumn);
enum_column!(BackchannelState, BackchannelStateColumn);

id_column!(UserId, UserIdColumn);
id_column!(ClientId, ClientIdColumn);
id_column!(ApprovalId, ApprovalIdColumn);
id_column!(RequestId, RequestIdColumn);
id_column!(GrantId, GrantIdColumn);

text_column!(ScopeSet, ScopeSetColumn, |v| v.as_str(), |text| Some(
    ScopeSet::parse(text)
));
