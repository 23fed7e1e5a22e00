//! Request parameters read as a list of pairs (DESIGN.md §8): a repeated parameter is
//! an error, an empty one counts as absent (RFC 6749 §3.1), and a value that is not
//! valid percent-encoded UTF-8 is reported by name.

use std::collections::HashMap;

/// Why parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// The parameter appeared more than once (RFC 6749 §3.1).
    Repeated(String),
    /// The parameter's name or value is not valid UTF-8 after percent-decoding.
    Undecodable(String),
}

/// Parameters of one request, each at most once, empties dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(HashMap<String, String>);

/// Percent-decodes one `application/x-www-form-urlencoded` component (`+` is a space).
/// Control characters other than tab and line breaks are refused like invalid UTF-8:
/// no parameter needs them, and NUL cannot even be stored in PostgreSQL text.
pub fn form_decode(raw: &[u8]) -> Option<String> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(decoded).ok().filter(|text| {
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    })
}

impl Params {
    /// Parses a query string or a form body.
    pub fn parse(raw: &[u8]) -> Result<Params, (ParamError, Params)> {
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut error = None;
        for pair in raw.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let (raw_name, raw_value) = (
                halves.next().unwrap_or_default(),
                halves.next().unwrap_or_default(),
            );
            let Some(name) = form_decode(raw_name) else {
                error.get_or_insert(ParamError::Undecodable(
                    String::from_utf8_lossy(raw_name).into(),
                ));
                continue;
            };
            let Some(value) = form_decode(raw_value) else {
                error.get_or_insert(ParamError::Undecodable(name));
                continue;
            };
            if value.is_empty() {
                continue;
            }
            if seen.insert(name.clone(), value).is_some() {
                error.get_or_insert(ParamError::Repeated(name));
            }
        }
        // The partial parameters let the caller still find client_id and redirect_uri
        // (and state) to send the error to, when those are not the broken ones.
        match error {
            None => Ok(Params(seen)),
            Some(error) => Err((error, Params(seen))),
        }
    }

    /// The value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// True when `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Builds parameters from pairs (tests, stored requests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        Params(
            pairs
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// All pairs (for storing a validated request).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_named() {
        let (error, partial) = Params::parse(b"a=1&b=2&a=3").unwrap_err();
        assert_eq!(error, ParamError::Repeated("a".into()));
        assert_eq!(partial.get("b"), Some("2"));
    }

    #[test]
    fn empty_values_count_as_absent_and_plus_is_space() {
        let params = Params::parse(b"a=&b=x+y%21&&c").unwrap();
        assert!(!params.has("a"));
        assert!(!params.has("c"));
        assert_eq!(params.get("b"), Some("x y!"));
    }

    #[test]
    fn undecodable_values_are_reported() {
        let (error, _) = Params::parse(b"state=%FF%FE").unwrap_err();
        assert_eq!(error, ParamError::Undecodable("state".into()));
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_kept() {
        let (error, _) = Params::parse(b"code=a%00b").unwrap_err();
        assert_eq!(error, ParamError::Undecodable("code".into()));
        assert!(
            Params::parse(b"state=%1B%5B2J").is_err(),
            "an escape sequence"
        );
        let text = Params::parse(b"justification=line+one%0D%0Aline%09two").unwrap();
        assert_eq!(text.get("justification"), Some("line one\r\nline\ttwo"));
    }
}
