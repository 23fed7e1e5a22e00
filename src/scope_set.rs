//! [`ScopeSet`]: the scopes of a request, consent, approval, grant or client (RFC 6749
//! §3.3), parsed once where they enter. Space-delimited on the wire and in the
//! database, kept in the order first given, without empty entries or duplicates.

use std::fmt;

/// A set of scope names in their first-given order.
///
/// Held in its canonical text form (names joined by one space), so storing it or
/// putting it on the wire costs nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(String);

impl ScopeSet {
    /// Parses a space-delimited list; empty entries and repeats are dropped.
    pub fn parse(text: &str) -> Self {
        text.split(' ').collect()
    }

    /// The scope names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split(' ').filter(|name| !name.is_empty())
    }

    /// True when `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|own| own == name)
    }

    /// True when every scope of `self` is in `other`.
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.iter().all(|name| other.contains(name))
    }

    /// The scopes of `self` followed by those of `other` it lacks.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        self.iter().chain(other.iter()).collect()
    }

    /// How many scopes.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when there is no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The space-delimited form (RFC 6749 §3.3), as stored and sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'a> FromIterator<&'a str> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Self {
        let mut set = ScopeSet::default();
        for name in names.into_iter().filter(|name| !name.is_empty()) {
            if !set.contains(name) {
                if !set.0.is_empty() {
                    set.0.push(' ');
                }
                set.0.push_str(name);
            }
        }
        set
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ScopeSet;

    #[test]
    fn parsing_keeps_first_order_and_drops_repeats_and_empty_entries() {
        let set = ScopeSet::parse("openid  deploy openid profile ");
        assert_eq!(set.as_str(), "openid deploy profile");
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            ["openid", "deploy", "profile"]
        );
        assert_eq!(set.len(), 3);
        assert!(ScopeSet::parse("  ").is_empty());
    }

    #[test]
    fn subset_and_union_follow_names_not_text() {
        let asked = ScopeSet::parse("openid deploy");
        let granted = ScopeSet::parse("deploy profile openid");
        assert!(asked.is_subset_of(&granted));
        assert!(!granted.is_subset_of(&asked));
        assert!(
            !ScopeSet::parse("deplo").is_subset_of(&asked),
            "no prefix match"
        );
        assert_eq!(asked.union(&granted).as_str(), "openid deploy profile");
    }
}
