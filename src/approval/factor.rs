//! The approver's second factor (issue 18, DESIGN.md §5.5): what a scope's policy asks
//! of an approver at the decision itself (`--approver-factor`), what the approver
//! presents with their vote, and what the vote then records as evidence (RFC 8176
//! authentication method references, per approver).

use crate::named::named_enum;

named_enum! {
    /// The factor a scope requires at each decision on its requests.
    #[derive(Default)]
    pub enum ApproverFactor {
        /// Only the page's recent sign-in (`approver_max_age`).
        #[default]
        None = "none",
        /// A TOTP code (RFC 6238), each time step accepted once.
        Totp = "totp",
        /// A WebAuthn assertion (passkey) over this very decision.
        Passkey = "passkey",
        /// Either of the two.
        Any = "any",
    }
}

impl ApproverFactor {
    /// The factor a request needs whose scopes ask for `self` and `other`: the
    /// stricter. A TOTP scope combined with a passkey scope needs the passkey, the
    /// phishing-resistant one.
    pub fn strictest(self, other: ApproverFactor) -> ApproverFactor {
        use ApproverFactor::{Any, None, Passkey, Totp};
        match (self, other) {
            (None, x) | (x, None) => x,
            (Any, x) | (x, Any) => x,
            (Totp, Totp) => Totp,
            (Passkey, _) | (_, Passkey) => Passkey,
        }
    }

    /// Whether a vote with `proof` satisfies this requirement.
    pub fn satisfied_by(self, proof: &Proof) -> bool {
        matches!(
            (self, proof),
            (ApproverFactor::None, _)
                | (ApproverFactor::Totp, Proof::Totp)
                | (ApproverFactor::Passkey, Proof::Passkey { .. })
                | (ApproverFactor::Any, Proof::Totp | Proof::Passkey { .. })
        )
    }

    /// Whether a session whose sign-in (or later step-up) recorded RFC 8176 `amr`
    /// proves this factor: `otp` for TOTP, `hwk` or `swk` for a passkey.
    pub fn proven_by_session(self, amr: &[String]) -> bool {
        let has = |method: &str| amr.iter().any(|m| m == method);
        match self {
            ApproverFactor::None => true,
            ApproverFactor::Totp => has("otp"),
            ApproverFactor::Passkey => has("hwk") || has("swk"),
            ApproverFactor::Any => has("otp") || has("hwk") || has("swk"),
        }
    }

    /// Words for pages: "a code from your authenticator app".
    pub fn describe(self) -> &'static str {
        match self {
            ApproverFactor::None => "no second factor",
            ApproverFactor::Totp => "a code from your authenticator app",
            ApproverFactor::Passkey => "your passkey",
            ApproverFactor::Any => "a code from your authenticator app or your passkey",
        }
    }
}

/// What the approver presented with their vote, not yet checked.
#[derive(Clone)]
pub enum Presented {
    /// Nothing.
    Nothing,
    /// A TOTP code or a recovery code, as typed.
    Code(String),
    /// A passkey assertion answering the challenge of a ceremony begun for this very
    /// vote (already consumed: it can answer nothing else).
    Assertion(Box<Assertion>),
}

/// A passkey assertion and the state of the ceremony it answers (WebAuthn L2 §7.2).
#[derive(Clone)]
pub struct Assertion {
    /// webauthn-rs's ceremony state, as stored.
    pub state: String,
    /// The browser's `PublicKeyCredential`.
    pub credential: webauthn_rs::prelude::PublicKeyCredential,
}

impl std::fmt::Debug for Presented {
    // A code is a secret for its 30 seconds: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Presented::Nothing => f.write_str("Nothing"),
            Presented::Code(_) => f.write_str("Code(…)"),
            Presented::Assertion(_) => f.write_str("Assertion(…)"),
        }
    }
}

/// What a checked factor proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// No second factor.
    None,
    /// A TOTP code (or a recovery code standing in for it).
    Totp,
    /// A passkey assertion by this credential.
    Passkey {
        /// The credential id (base64url).
        credential_id: String,
        /// A synced (backup-eligible) passkey: RFC 8176 `swk` rather than `hwk`.
        synced: bool,
    },
}

impl Proof {
    /// The RFC 8176 `amr` values of a vote on the page: how the approver's session
    /// signed in (`signed_in_with`, e.g. `pwd`, or `hwk` for a passkey), then the
    /// factor presented with the vote (`otp`, or `hwk`/`swk` for a passkey bound to
    /// one device or synced), each once, and `mfa` when
    /// they come to two methods or the sign-in already was multi-factor.
    pub fn page_amr(&self, signed_in_with: &[String]) -> Vec<String> {
        let mut amr: Vec<String> = signed_in_with
            .iter()
            .filter(|method| *method != "mfa")
            .cloned()
            .collect();
        let presented = match self {
            Proof::None => None,
            Proof::Totp => Some("otp"),
            Proof::Passkey { synced, .. } => Some(crate::accounts::passkeys::key_method(*synced)),
        };
        if let Some(method) = presented.filter(|m| !amr.iter().any(|have| have == m)) {
            amr.push(method.to_owned());
        }
        if amr.len() >= 2 || signed_in_with.iter().any(|method| method == "mfa") {
            amr.push("mfa".into());
        }
        amr
    }

    /// The credential behind the proof, if it names one.
    pub fn credential_id(&self) -> Option<String> {
        match self {
            Proof::Passkey { credential_id, .. } => Some(credential_id.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApproverFactor::{Any, None, Passkey, Totp};
    use super::*;

    #[test]
    fn combining_scopes_keeps_the_strictest_factor() {
        assert_eq!(None.strictest(None), None);
        assert_eq!(None.strictest(Any), Any);
        assert_eq!(Any.strictest(Totp), Totp);
        assert_eq!(Totp.strictest(Any), Totp);
        assert_eq!(Totp.strictest(Passkey), Passkey);
        assert_eq!(Passkey.strictest(None), Passkey);
    }

    #[test]
    fn each_requirement_accepts_exactly_its_proofs() {
        let passkey = Proof::Passkey {
            credential_id: "c".into(),
            synced: false,
        };
        assert!(None.satisfied_by(&Proof::None));
        assert!(!Totp.satisfied_by(&Proof::None));
        assert!(Totp.satisfied_by(&Proof::Totp));
        assert!(!Totp.satisfied_by(&passkey));
        assert!(!Passkey.satisfied_by(&Proof::Totp));
        assert!(Passkey.satisfied_by(&passkey));
        assert!(Any.satisfied_by(&Proof::Totp) && Any.satisfied_by(&passkey));
        assert!(!Any.satisfied_by(&Proof::None));
    }

    #[test]
    fn amr_names_the_factors_used() {
        let pwd = ["pwd".to_owned()];
        assert_eq!(Proof::None.page_amr(&pwd), ["pwd"]);
        assert_eq!(Proof::Totp.page_amr(&pwd), ["pwd", "otp", "mfa"]);
        let passkey = Proof::Passkey {
            credential_id: "c".into(),
            synced: false,
        };
        assert_eq!(passkey.page_amr(&pwd), ["pwd", "hwk", "mfa"]);
        let synced = Proof::Passkey {
            credential_id: "c".into(),
            synced: true,
        };
        assert_eq!(synced.page_amr(&pwd), ["pwd", "swk", "mfa"]);
        // Signed in with a passkey: the sign-in was already two factors, and the
        // vote's passkey is the same method.
        let hwk = ["hwk".to_owned(), "mfa".to_owned()];
        assert_eq!(Proof::None.page_amr(&hwk), ["hwk", "mfa"]);
        assert_eq!(passkey.page_amr(&hwk), ["hwk", "mfa"]);
        assert_eq!(Proof::Totp.page_amr(&hwk), ["hwk", "otp", "mfa"]);
    }

    #[test]
    fn a_presented_code_never_shows_in_logs() {
        assert_eq!(format!("{:?}", Presented::Code("123456".into())), "Code(…)");
    }
}
