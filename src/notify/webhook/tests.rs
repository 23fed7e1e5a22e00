use serde_json::json;

use super::*;
use crate::approval::ApprovalState;
use crate::notify::snapshot::sample;

// The Standard Webhooks published test vector (spec and every reference library).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

#[test]
fn signing_reproduces_the_published_test_vector() {
    assert_eq!(sign(SECRET, MSG_ID, TS, BODY).unwrap(), SIGNATURE);
    // The prefix is optional on input, as in the reference libraries.
    let bare = SECRET.trim_start_matches(SECRET_PREFIX);
    assert_eq!(sign(bare, MSG_ID, TS, BODY).unwrap(), SIGNATURE);
}

#[test]
fn the_published_vector_verifies_within_five_minutes() {
    let ts = TS.to_string();
    assert_eq!(
        verify(SECRET, MSG_ID, &ts, SIGNATURE, BODY, TS + 300),
        Ok(())
    );
    assert_eq!(
        verify(SECRET, MSG_ID, &ts, SIGNATURE, BODY, TS - 300),
        Ok(())
    );
    for now in [TS + 301, TS - 301] {
        assert_eq!(
            verify(SECRET, MSG_ID, &ts, SIGNATURE, BODY, now),
            Err(WebhookError::Stale)
        );
    }
}

#[test]
fn one_changed_byte_of_the_body_id_or_timestamp_is_refused() {
    let ts = TS.to_string();
    let mut body = BODY.to_vec();
    body[3] ^= 1;
    let bad = Err(WebhookError::BadSignature);
    assert_eq!(verify(SECRET, MSG_ID, &ts, SIGNATURE, &body, TS), bad);
    assert_eq!(
        verify(
            SECRET,
            "msg_p5jXN8AQM9LWM0D4loKWxJeK",
            &ts,
            SIGNATURE,
            BODY,
            TS
        ),
        bad
    );
    let later = (TS + 1).to_string();
    assert_eq!(verify(SECRET, MSG_ID, &later, SIGNATURE, BODY, TS), bad);
    let other_secret = secret_from_bytes(&[7; 32]);
    assert_eq!(verify(&other_secret, MSG_ID, &ts, SIGNATURE, BODY, TS), bad);
}

#[test]
fn any_of_several_signatures_may_match_and_other_versions_are_skipped() {
    let ts = TS.to_string();
    let header = format!(
        "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1a,{} {SIGNATURE}",
        SIGNATURE.trim_start_matches("v1,")
    );
    assert_eq!(verify(SECRET, MSG_ID, &ts, &header, BODY, TS), Ok(()));
    let v1a_only = SIGNATURE.replace("v1,", "v1a,");
    assert_eq!(
        verify(SECRET, MSG_ID, &ts, &v1a_only, BODY, TS),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn an_empty_or_truncated_signature_never_verifies() {
    // The bug fixed in standard-webhooks PR #115: comparing up to the shorter length.
    let ts = TS.to_string();
    let prefix = &SIGNATURE[..SIGNATURE.len() - 8];
    for header in ["v1,", "v1,g0hM", prefix, "", " ", "v1,not base64!"] {
        assert_eq!(
            verify(SECRET, MSG_ID, &ts, header, BODY, TS),
            Err(WebhookError::BadSignature),
            "{header:?}"
        );
    }
}

#[test]
fn bad_secrets_ids_and_timestamps_are_named() {
    let ts = TS.to_string();
    for secret in ["whsec_", "whsec_***", ""] {
        assert_eq!(
            sign(secret, MSG_ID, TS, BODY),
            Err(WebhookError::InvalidSecret)
        );
    }
    for id in ["", "msg.1"] {
        assert_eq!(sign(SECRET, id, TS, BODY), Err(WebhookError::InvalidMsgId));
        assert_eq!(
            verify(SECRET, id, &ts, SIGNATURE, BODY, TS),
            Err(WebhookError::InvalidMsgId)
        );
    }
    for bad in ["", "-1", "1614265330.0", "1e9", "99999999999999999999"] {
        assert_eq!(
            verify(SECRET, MSG_ID, bad, SIGNATURE, BODY, TS),
            Err(WebhookError::InvalidTimestamp),
            "{bad}"
        );
    }
}

#[test]
fn a_generated_secret_round_trips() {
    let secret = secret_from_bytes(&[42; 32]);
    assert!(secret.starts_with("whsec_"));
    let signature = sign(&secret, "msg_1", 1_790_000_000, b"{}").unwrap();
    assert_eq!(
        verify(
            &secret,
            "msg_1",
            "1790000000",
            &signature,
            b"{}",
            1_790_000_000
        ),
        Ok(())
    );
}

#[test]
fn the_event_body_names_the_event_and_carries_the_snapshot() {
    let body = event_body(&sample(), Event::Requested);
    assert_eq!(body["type"], "approval.requested");
    assert_eq!(body["timestamp"], "2026-09-21T14:28:20Z");
    let data = &body["data"];
    assert_eq!(data["approval_id"], "apv_123");
    assert_eq!(data["state"], "pending");
    assert!(data.get("outcome").is_none());
    assert_eq!(
        data["requester"],
        json!({"username": "alice", "name": "Alice Smith", "email": "alice@example.com"})
    );
    assert_eq!(data["client"]["name"], "Payroll");
    assert_eq!(
        data["scopes"][1],
        json!({"name": "payroll:write", "description": "Change salaries", "sensitive": true})
    );
    assert_eq!(data["justification"], "Quarterly run");
    assert_eq!(data["approvals_given"], 1);
    assert_eq!(data["approvals_needed"], 2);
    assert_eq!(
        data["votes"][0],
        json!({"approver": "Bob", "decision": "approve", "comment": "fine by me",
               "at": "2026-09-21T14:15:00Z"})
    );
    assert_eq!(data["expires_at"], "2026-09-21T15:13:20Z");
    assert!(data["access_until"].is_null());
    assert_eq!(data["page_url"], "https://id.example.com/approvals/apv_123");
}

#[test]
fn a_decision_event_carries_its_outcome() {
    let mut s = sample();
    s.state = ApprovalState::Denied;
    let body = event_body(&s, Event::Denied);
    assert_eq!(body["type"], "approval.decided");
    assert_eq!(body["data"]["outcome"], "denied");
    s.state = ApprovalState::Approved;
    s.access_until = Some(1_790_086_400);
    let body = event_body(&s, Event::Approved);
    assert_eq!(body["data"]["outcome"], "approved");
    assert_eq!(body["data"]["access_until"], "2026-09-22T14:13:20Z");
}

#[test]
fn retries_follow_the_schedule_and_stop_at_the_maximum() {
    let no_jitter = 0.5;
    let waits: Vec<_> = (1..10)
        .map(|n| next_attempt_delay(n, 10, no_jitter).unwrap())
        .collect();
    assert_eq!(waits, RETRY_SCHEDULE[1..]);
    assert_eq!(next_attempt_delay(10, 10, no_jitter), None);
    assert_eq!(next_attempt_delay(3, 3, no_jitter), None);
    assert_eq!(next_attempt_delay(2, 3, no_jitter), Some(300));
    // Beyond the schedule the last wait repeats.
    assert_eq!(next_attempt_delay(12, 15, no_jitter), Some(86_400));
    assert_eq!(next_attempt_delay(0, 10, no_jitter), Some(0));
    assert_eq!(next_attempt_delay(0, 0, no_jitter), None);
}

#[test]
fn jitter_spreads_each_wait_by_ten_percent_either_way() {
    assert_eq!(next_attempt_delay(2, 10, 0.0), Some(270));
    assert_eq!(next_attempt_delay(2, 10, 0.999_999), Some(330));
    assert_eq!(next_attempt_delay(9, 10, 0.25), Some(82_080));
    // Out-of-range draws are clamped, never panic or go negative.
    assert_eq!(next_attempt_delay(2, 10, -3.0), Some(270));
    assert_eq!(next_attempt_delay(2, 10, 7.0), Some(330));
    assert_eq!(next_attempt_delay(2, 10, f64::NAN), Some(300));
    for attempt in 1..10 {
        for jitter in [0.0, 0.3, 0.7, 0.99] {
            let wait = next_attempt_delay(attempt, 10, jitter).unwrap();
            let base = RETRY_SCHEDULE[attempt as usize] as f64;
            assert!((wait as f64) >= base * 0.9 - 0.5 && (wait as f64) <= base * 1.1 + 0.5);
        }
    }
}

#[test]
fn only_2xx_delivers_and_410_disables_the_endpoint() {
    assert_eq!(classify_status(200), DeliveryOutcome::Delivered);
    assert_eq!(classify_status(204), DeliveryOutcome::Delivered);
    assert_eq!(classify_status(410), DeliveryOutcome::DisableEndpoint);
    for status in [301, 400, 404, 429, 500, 503] {
        assert_eq!(classify_status(status), DeliveryOutcome::Retry);
    }
}
