//! Enums that are stored and sent by name (lifecycle states, decisions, grant types,
//! audit actions): one declaration gives each value its one spelling, `as_str` and
//! `parse` (and serde both ways), so a misspelt name is a compile error and an unknown stored one is refused
//! where it is read (`store::sql_types` turns it into `StoreError::Corrupt`).

/// Declares a fieldless enum whose variants each have one stored name.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and wire) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The value with this exact name, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    serde::de::Error::custom(format!(
                        "{text:?} is not one of: {}",
                        names.join(", ")
                    ))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

/// Test support for lifecycles: every `(state, event)` pair of `states` × `events`
/// moves to what `legal` says, and every pair `legal` does not list is refused.
#[cfg(test)]
pub(crate) fn assert_transitions<S, E, X>(
    states: &[S],
    events: &[E],
    legal: &[(S, E, S)],
    next: impl Fn(S, E) -> Result<S, X>,
) where
    S: Copy + PartialEq + std::fmt::Debug,
    E: Copy + PartialEq + std::fmt::Debug,
{
    for &state in states {
        for &event in events {
            let expected = legal
                .iter()
                .find(|(s, e, _)| *s == state && *e == event)
                .map(|(_, _, to)| *to);
            assert_eq!(next(state, event).ok(), expected, "{state:?} + {event:?}");
        }
    }
}
