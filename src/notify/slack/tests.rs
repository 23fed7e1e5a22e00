use serde_json::{json, Value};

use super::*;
use crate::notify::snapshot::{sample, VoteLine};

fn action_ids(message: &Value) -> Vec<String> {
    blocks_of(message, "actions")
        .iter()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| e["action_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn blocks_of(message: &Value, kind: &str) -> Vec<Value> {
    message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == kind)
        .cloned()
        .collect()
}

fn all_text(message: &Value) -> String {
    message.to_string()
}

#[test]
fn a_pending_message_with_chat_decisions_has_approve_deny_and_open() {
    let message = slack_message(&sample());
    assert_eq!(
        action_ids(&message),
        [ACTION_APPROVE, ACTION_DENY, ACTION_OPEN]
    );
    let actions = &blocks_of(&message, "actions")[0]["elements"];
    assert_eq!(actions[0]["style"], "primary");
    assert_eq!(actions[0]["value"], "apv_123");
    assert_eq!(actions[1]["style"], "danger");
    assert_eq!(actions[1]["value"], "apv_123");
    assert_eq!(
        actions[2]["url"],
        "https://id.example.com/approvals/apv_123"
    );
}

#[test]
fn without_chat_decisions_only_the_link_is_offered() {
    let mut s = sample();
    s.chat_decisions = false;
    let message = slack_message(&s);
    assert_eq!(action_ids(&message), [ACTION_OPEN]);
    let open = &blocks_of(&message, "actions")[0]["elements"][0];
    assert_eq!(open["text"]["text"], "Open in countersign");
    assert!(open.get("value").is_none());
    assert!(!all_text(&message).contains(ACTION_DENY));
}

#[test]
fn a_decided_message_has_no_buttons_and_shows_the_outcome() {
    let mut s = sample();
    s.state = ApprovalState::Denied;
    s.votes.push(VoteLine {
        approver: "Carol".into(),
        decision: Decision::Deny,
        comment: Some("not this quarter".into()),
        at: 1_790_000_200,
    });
    let message = slack_message(&s);
    assert!(blocks_of(&message, "actions").is_empty());
    assert_eq!(
        blocks_of(&message, "header")[0]["text"]["text"],
        "❌ Denied"
    );
    let text = all_text(&message);
    assert!(text.contains("*Outcome*\\n❌ Denied"));
    assert!(text.contains("*Carol* denied"));
    assert!(text.contains("“not this quarter”"));
    assert!(text.contains("<https://id.example.com/approvals/apv_123|View in countersign>"));
    assert!(message["text"].as_str().unwrap().starts_with("❌ Denied: "));
}

#[test]
fn the_facts_show_requester_client_scopes_justification_and_progress() {
    let message = slack_message(&sample());
    let text = all_text(&message);
    for expected in [
        "*Alice Smith (alice)* asks for access to *Payroll*",
        "Alice Smith (alice) &lt;alice@example.com&gt;",
        "*Must approve*\\n1 approval from approvers, 1 from security",
        "*Progress*\\n1 of 2 approvals",
        "*Time left*\\n45 min (until <!date^1790003600^",
        "• `payroll:write` Change salaries _(needs approval)_",
        "• `openid` Sign you in\\n",
        "*Justification*\\n>Quarterly run",
        "*Bob* approved <!date^1790000100^",
        "“fine by me”",
    ] {
        assert!(text.contains(expected), "missing {expected} in {text}");
    }
    assert_eq!(
        message["text"],
        "Approval needed: Alice Smith (alice) asks for openid payroll:write on Payroll"
    );
}

#[test]
fn user_text_cannot_inject_markup_links_or_mentions() {
    let mut s = sample();
    s.requester_name = "<script>alert(1)</script>".into();
    s.client_name = "<https://evil.example|Click> & <!channel>".into();
    s.justification = Some("line1\n<@U123> please".into());
    s.votes[0].comment = Some("<!here>".into());
    let text = all_text(&slack_message(&s));
    for raw in [
        "<script>",
        "<https://evil",
        "<!channel>",
        "<@U123>",
        "<!here>",
    ] {
        assert!(!text.contains(raw), "{raw} leaked into {text}");
    }
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(text.contains("&lt;https://evil.example|Click&gt; &amp; &lt;!channel&gt;"));
    assert!(text.contains(">line1\\n>&lt;@U123&gt; please"));
}

#[test]
fn long_text_is_cut_by_character_at_slacks_limits() {
    let mut s = sample();
    s.justification = Some("é".repeat(5000));
    s.client_name = "ü".repeat(2500);
    let message = slack_message(&s);
    for text in collect_texts(&message) {
        assert!(
            text.chars().count() <= 3000,
            "{} chars",
            text.chars().count()
        );
    }
    let justification = blocks_of(&message, "section")
        .into_iter()
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_owned))
        .find(|t| t.starts_with("*Justification*"))
        .unwrap();
    assert_eq!(justification.chars().count(), 3000);
    assert!(justification.ends_with("é (truncated)"));
    let fields = &blocks_of(&message, "section")[0]["fields"];
    let application = fields[1]["text"].as_str().unwrap();
    assert_eq!(application.chars().count(), 2000);
}

fn collect_texts(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => {
            let mut out: Vec<String> = map.values().flat_map(collect_texts).collect();
            if let Some(Value::String(text)) = map.get("text") {
                out.push(text.clone());
            }
            out
        }
        Value::Array(items) => items.iter().flat_map(collect_texts).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn truncation_never_splits_an_entity_or_a_link() {
    let cut = truncate(format!("{}&amp;rest of it", "a".repeat(14)), 28);
    assert_eq!(cut, format!("{} (truncated)", "a".repeat(14)));
    let cut = truncate(format!("{}<!date^1^x|y> end", "a".repeat(4)), 20);
    assert_eq!(cut, "aaaa (truncated)");
    let cut = truncate("aaaa&amp; done and more words".into(), 24);
    assert_eq!(cut, "aaaa&amp; do (truncated)");
    assert_eq!(truncate("short".into(), 30), "short");
}

#[test]
fn the_deny_modal_asks_for_a_required_reason_and_carries_the_id() {
    let modal = deny_modal(&crate::ids::ApprovalId::new("apv_9"));
    assert_eq!(modal["callback_id"], DENY_REASON_CALLBACK);
    assert_eq!(modal["private_metadata"], "apv_9");
    let input = &modal["blocks"][0];
    assert_eq!(input["type"], "input");
    assert_eq!(input["optional"], false);
    assert_eq!(input["element"]["multiline"], true);
    assert_eq!(input["element"]["action_id"], REASON_INPUT);
    assert!(modal["title"]["text"].as_str().unwrap().chars().count() <= 24);
}

#[test]
fn refusals_go_back_as_modal_errors_or_escaped_ephemeral_replies() {
    assert_eq!(
        deny_modal_error("You are not an approver of this request."),
        json!({"response_action": "errors",
               "errors": {"reason": "You are not an approver of this request."}})
    );
    let reply = ephemeral("Already decided by <Carol>");
    assert_eq!(reply["response_type"], "ephemeral");
    assert_eq!(reply["replace_original"], false);
    assert_eq!(reply["text"], "Already decided by &lt;Carol&gt;");
}

// Slack's worked example in "Verifying requests from Slack".
const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const TS: &str = "1531420618";
const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const NOW: i64 = 1_531_420_618;

#[test]
fn slacks_published_example_verifies_and_returns_its_timestamp() {
    assert_eq!(slack_verify(SECRET, TS, SIG, BODY, NOW + 300), Ok(NOW));
    assert_eq!(slack_verify(SECRET, TS, SIG, BODY, NOW - 300), Ok(NOW));
}

#[test]
fn one_changed_byte_of_the_body_is_refused() {
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    assert_eq!(
        slack_verify(SECRET, TS, SIG, &body, NOW),
        Err(SlackSignatureError::BadSignature)
    );
    assert_eq!(
        slack_verify(b"another secret", TS, SIG, BODY, NOW),
        Err(SlackSignatureError::BadSignature)
    );
    assert_eq!(
        slack_verify(b"", TS, SIG, BODY, NOW),
        Err(SlackSignatureError::Malformed("signing secret"))
    );
}

#[test]
fn a_timestamp_more_than_five_minutes_away_is_stale() {
    for now in [NOW + 301, NOW - 301] {
        assert_eq!(
            slack_verify(SECRET, TS, SIG, BODY, now),
            Err(SlackSignatureError::Stale)
        );
    }
}

#[test]
fn malformed_headers_are_named() {
    let ts = SlackSignatureError::Malformed("X-Slack-Request-Timestamp");
    let sig = SlackSignatureError::Malformed("X-Slack-Signature");
    for bad_ts in [
        "",
        "-1531420618",
        "1531420618.5",
        " 1531420618",
        "99999999999999",
    ] {
        assert_eq!(
            slack_verify(SECRET, bad_ts, SIG, BODY, NOW),
            Err(ts.clone())
        );
    }
    let short = &SIG[..SIG.len() - 2];
    let v1 = SIG.replace("v0=", "v1=");
    let not_hex = SIG.replace('a', "g");
    for bad_sig in ["", "v0=", short, &v1, &not_hex] {
        assert_eq!(
            slack_verify(SECRET, TS, bad_sig, BODY, NOW),
            Err(sig.clone())
        );
    }
}

fn form(payload: &Value) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

fn click(action_id: &str, value: &str) -> Value {
    json!({
        "type": "block_actions",
        "user": {"id": "U1", "username": "bob", "team_id": "T1"},
        "team": {"id": "T1", "domain": "acme"},
        "trigger_id": "123.456.abc",
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": "C1", "is_ephemeral": false},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "countersign_actions",
                     "value": value, "action_ts": "1700000001.000200"}],
    })
}

#[test]
fn an_approve_click_is_parsed_with_everything_needed_to_answer() {
    let parsed = parse_interaction(&form(&click(ACTION_APPROVE, "apv_123"))).unwrap();
    assert_eq!(
        parsed,
        SlackInteraction::Decide(SlackDecision {
            user_id: "U1".into(),
            team_id: Some("T1".into()),
            decision: Decision::Approve,
            approval_id: crate::ids::ApprovalId::new("apv_123"),
            response_url: Some("https://hooks.slack.com/actions/T1/1/x".into()),
            trigger_id: "123.456.abc".into(),
            channel_id: Some("C1".into()),
            message_ts: Some("1700000000.000100".into()),
        })
    );
    let deny = parse_interaction(&form(&click(ACTION_DENY, "apv_123")));
    assert!(matches!(
        deny,
        Ok(SlackInteraction::Decide(SlackDecision {
            decision: Decision::Deny,
            ..
        }))
    ));
}

#[test]
fn the_link_button_and_other_payloads_are_ignored() {
    let open = parse_interaction(&form(&click(ACTION_OPEN, ""))).unwrap();
    assert_eq!(open, SlackInteraction::Ignored);
    let shortcut = json!({"type": "shortcut", "callback_id": "x", "trigger_id": "t"});
    assert_eq!(
        parse_interaction(&form(&shortcut)),
        Ok(SlackInteraction::Ignored)
    );
}

#[test]
fn bad_interaction_bodies_are_refused() {
    use SlackInteractionError as E;
    assert_eq!(parse_interaction(b"token=x"), Err(E::NoPayload));
    let twice = [
        form(&click(ACTION_APPROVE, "a")),
        b"&".to_vec(),
        form(&json!({})),
    ]
    .concat();
    assert_eq!(parse_interaction(&twice), Err(E::NoPayload));
    assert!(matches!(
        parse_interaction(b"payload=not-json"),
        Err(E::Json(_))
    ));
    let no_user = json!({"type": "block_actions", "trigger_id": "t", "actions": []});
    assert!(matches!(
        parse_interaction(&form(&no_user)),
        Err(E::Json(_))
    ));
    let mut none = click(ACTION_APPROVE, "apv_1");
    none["actions"] = json!([]);
    assert_eq!(parse_interaction(&form(&none)), Err(E::NoAction));
    let bad_id = click(ACTION_APPROVE, "../../etc");
    assert_eq!(parse_interaction(&form(&bad_id)), Err(E::BadApprovalId));
}

fn submission(reason: Option<&str>, metadata: &str) -> Value {
    json!({
        "type": "view_submission",
        "user": {"id": "U2", "team_id": "T1"},
        "view": {
            "id": "V1", "type": "modal", "callback_id": DENY_REASON_CALLBACK,
            "private_metadata": metadata,
            "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}},
        },
    })
}

#[test]
fn a_submitted_deny_reason_is_parsed_and_an_empty_one_refused() {
    let parsed = parse_interaction(&form(&submission(Some("  too broad \n"), "apv_123")));
    assert_eq!(
        parsed,
        Ok(SlackInteraction::DenyReason(SlackDenyReason {
            user_id: "U2".into(),
            team_id: Some("T1".into()),
            approval_id: crate::ids::ApprovalId::new("apv_123"),
            reason: "too broad".into(),
        }))
    );
    for reason in [None, Some(""), Some("  ")] {
        let body = form(&submission(reason, "apv_123"));
        assert_eq!(
            parse_interaction(&body),
            Err(SlackInteractionError::EmptyReason)
        );
    }
    let body = form(&submission(Some("x"), "not an id"));
    assert_eq!(
        parse_interaction(&body),
        Err(SlackInteractionError::BadApprovalId)
    );
}

#[test]
fn the_action_to_approve_and_the_binding_message_are_shown_field_by_field_escaped() {
    let message = slack_message(&sample());
    let text = all_text(&message);
    assert!(text.contains("*Action: payment*"), "{text}");
    let plain: Vec<String> = blocks_of(&message, "section")
        .iter()
        .flat_map(|b| b["fields"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["type"] == "plain_text")
        .map(|f| f["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(plain.contains(&"amount: 4500".to_owned()), "{plain:?}");
    assert!(
        plain.contains(&"creditor: ACME <b>".to_owned()),
        "literal, not mrkdwn: {plain:?}"
    );
    assert!(text.contains("Binding message (shown on the requester's device): Pay ACME 4500"));
}
