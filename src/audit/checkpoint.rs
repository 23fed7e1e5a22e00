//! A signed checkpoint of the audit chain: "at time `at` the event `seq` had hash
//! `hash`", signed with the anchor key. Since each hash covers every event before it,
//! one checkpoint pins the whole chain up to its seq.
//!
//! The signed message is the ASCII text `countersign-audit-checkpoint:v1:<seq>:<hash>:<at>`
//! (`at` in unix seconds), so an auditor can check a checkpoint without countersign:
//! write that text to `msg`, the base64url-decoded `sig` to `sig.bin`, and run
//! `openssl pkeyutl -verify -pubin -inkey anchor.pem -rawin -in msg -sigfile sig.bin`.
//! On the wire (stdout, `--out` files, logs) a checkpoint is one JSON object per line.

use serde_json::{json, Value};

use crate::crypto::{AnchorKey, AnchorPublicKey};
use crate::store::CheckpointRow;

/// What the JSON line of a checkpoint says it is.
const KIND: &str = "countersign.audit.checkpoint/v1";

/// One signed checkpoint of the chain head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The anchored event.
    pub seq: i64,
    /// That event's hash.
    pub hash: String,
    /// When it was anchored (unix seconds).
    pub at: i64,
    /// The RFC 7638 thumbprint of the key that signed it.
    pub kid: String,
    /// The Ed25519 signature of [`Checkpoint::message`], base64url.
    pub sig: String,
}

/// Why a checkpoint's signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    /// Signed by a key that is not trusted: another secret key, or made up.
    #[error("signed by key {kid}, not by the anchor key {trusted}: another secret key signed it, or it is forged")]
    UnknownKey {
        /// The key the checkpoint names.
        kid: String,
        /// The trusted keys.
        trusted: String,
    },
    /// The signature does not match the checkpoint's seq, hash and time.
    #[error("its signature does not match its seq, hash and time: it was forged or altered")]
    BadSignature,
}

impl Checkpoint {
    /// Signs `(seq, hash, at)` with `key`.
    pub fn sign(key: &AnchorKey, seq: i64, hash: &str, at: i64) -> Checkpoint {
        let sig = key.sign(message(seq, hash, at).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_owned(),
            at,
            kid: key.public().kid(),
            sig,
        }
    }

    /// The bytes the signature covers.
    pub fn message(&self) -> String {
        message(self.seq, &self.hash, self.at)
    }

    /// Accepts the checkpoint when one of `trusted` made its signature.
    pub fn check_signature(&self, trusted: &[AnchorPublicKey]) -> Result<(), SignatureProblem> {
        let Some(key) = trusted.iter().find(|key| key.kid() == self.kid) else {
            let kids: Vec<String> = trusted.iter().map(AnchorPublicKey::kid).collect();
            return Err(SignatureProblem::UnknownKey {
                kid: self.kid.clone(),
                trusted: kids.join(" or "),
            });
        };
        match key.verify(self.message().as_bytes(), &self.sig) {
            true => Ok(()),
            false => Err(SignatureProblem::BadSignature),
        }
    }

    /// The checkpoint as one JSON line (no newline).
    pub fn to_line(&self) -> String {
        let at = chrono::DateTime::from_timestamp(self.at, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        json!({
            "type": KIND,
            "seq": self.seq,
            "hash": self.hash,
            "at": at,
            "kid": self.kid,
            "sig": self.sig,
        })
        .to_string()
    }

    /// Reads what [`Checkpoint::to_line`] wrote.
    pub fn parse_line(line: &str) -> Result<Checkpoint, String> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
        if value["type"] != KIND {
            return Err(format!("its \"type\" is not {KIND:?}"));
        }
        let text = |name: &str| {
            value[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name:?} string"))
        };
        let seq = value["seq"].as_i64().ok_or("no \"seq\" number")?;
        let at = chrono::DateTime::parse_from_rfc3339(&text("at")?)
            .map_err(|_| "its \"at\" is not an RFC 3339 time")?
            .timestamp();
        Ok(Checkpoint {
            seq,
            hash: text("hash")?,
            at,
            kid: text("kid")?,
            sig: text("sig")?,
        })
    }
}

fn message(seq: i64, hash: &str, at: i64) -> String {
    format!("countersign-audit-checkpoint:v1:{seq}:{hash}:{at}")
}

impl From<CheckpointRow> for Checkpoint {
    fn from(row: CheckpointRow) -> Self {
        Checkpoint {
            seq: row.seq,
            hash: row.hash,
            at: row.at,
            kid: row.kid,
            sig: row.signature,
        }
    }
}

impl From<&Checkpoint> for CheckpointRow {
    fn from(checkpoint: &Checkpoint) -> Self {
        CheckpointRow {
            seq: checkpoint.seq,
            hash: checkpoint.hash.clone(),
            at: checkpoint.at,
            kid: checkpoint.kid.clone(),
            signature: checkpoint.sig.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn key(secret: &str) -> AnchorKey {
        AnchorKey::derive(&SecretString::from(secret.repeat(40))).unwrap()
    }

    fn signed() -> (AnchorKey, Checkpoint) {
        let key = key("a");
        let checkpoint = Checkpoint::sign(&key, 7, &"ab".repeat(32), 1_795_000_000);
        (key, checkpoint)
    }

    #[test]
    fn the_signed_message_is_the_documented_text() {
        let (_, checkpoint) = signed();
        let hash = "ab".repeat(32);
        assert_eq!(
            checkpoint.message(),
            format!("countersign-audit-checkpoint:v1:7:{hash}:1795000000")
        );
    }

    #[test]
    fn a_checkpoint_round_trips_through_its_line() {
        let (key, checkpoint) = signed();
        let line = checkpoint.to_line();
        assert!(!line.contains('\n'));
        let parsed = Checkpoint::parse_line(&line).unwrap();
        assert_eq!(parsed, checkpoint);
        assert_eq!(parsed.check_signature(&[key.public().clone()]), Ok(()));
    }

    #[test]
    fn a_changed_seq_hash_or_time_breaks_the_signature() {
        let (key, checkpoint) = signed();
        let trusted = [key.public().clone()];
        let changes = [
            Checkpoint {
                seq: 8,
                ..checkpoint.clone()
            },
            Checkpoint {
                hash: "cd".repeat(32),
                ..checkpoint.clone()
            },
            Checkpoint {
                at: checkpoint.at + 1,
                ..checkpoint.clone()
            },
        ];
        for changed in changes {
            assert_eq!(
                changed.check_signature(&trusted),
                Err(SignatureProblem::BadSignature),
                "{changed:?}"
            );
        }
    }

    #[test]
    fn a_checkpoint_of_another_secret_key_is_refused() {
        let (_, checkpoint) = signed();
        let other = key("b");
        let refused = checkpoint.check_signature(&[other.public().clone()]);
        assert!(
            matches!(refused, Err(SignatureProblem::UnknownKey { .. })),
            "{refused:?}"
        );
        let relabelled = Checkpoint {
            kid: other.public().kid(),
            ..checkpoint
        };
        assert_eq!(
            relabelled.check_signature(&[other.public().clone()]),
            Err(SignatureProblem::BadSignature)
        );
    }

    #[test]
    fn lines_that_are_not_checkpoints_are_refused() {
        let (_, checkpoint) = signed();
        let line = checkpoint.to_line();
        for bad in [
            "",
            "{}",
            "not json",
            &line.replace(KIND, "other"),
            &line.replace("\"seq\":7", "\"seq\":\"7\""),
        ] {
            assert!(Checkpoint::parse_line(bad).is_err(), "{bad}");
        }
    }
}
