use super::*;

const RULES: &str = r#"
@id("small-payments")
permit(principal, action, resource == ActionType::"payment")
when { context.details.amount <= 1000 };

@id("large-payments")
@require("finance:2")
permit(principal, action, resource == ActionType::"payment")
when { context.details.amount > 10000 };

@id("treasury-may-read")
permit(principal in Group::"treasury", action, resource == Scope::"ledger:read");

@id("no-contractors")
forbid(principal, action, resource)
when { context.subject.attributes has kind && context.subject.attributes.kind == "contractor" };
"#;

fn details(amount: Value) -> AuthorizationDetails {
    AuthorizationDetails::from_value(json!([
        {"type": "payment", "amount": amount, "currency": "EUR"}
    ]))
    .unwrap()
}

fn decide(
    scopes: &[&str],
    details: Option<&AuthorizationDetails>,
    groups: &[&str],
    kind: Option<&str>,
) -> RuleDecision {
    let set = RuleSet::parse(7, RULES).unwrap();
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    let attributes: BTreeMap<String, String> = kind
        .map(|k| [("kind".to_owned(), k.to_owned())].into())
        .unwrap_or_default();
    set.evaluate(&RuleInput {
        username: "alice",
        groups: &groups,
        attributes: &attributes,
        client_id: "agent",
        scopes: scopes.to_vec(),
        sensitive_scopes: scopes.iter().copied().filter(|s| *s != "openid").collect(),
        details,
        channel: "front",
        hooks: &[],
        // 2026-12-07 is a Monday.
        now: 1_796_608_800,
    })
}

#[test]
fn below_the_threshold_a_rule_approves_and_names_itself() {
    let small = details(json!(450));
    let decision = decide(&["openid"], Some(&small), &[], None);
    assert_eq!(decision.outcome, RuleOutcome::Approve);
    assert_eq!(decision.rules, vec!["small-payments"]);
    assert_eq!(decision.version, 7);
}

#[test]
fn above_the_threshold_two_of_finance_are_required() {
    let large = details(json!(25000));
    let decision = decide(&["openid"], Some(&large), &[], None);
    assert_eq!(decision.outcome, RuleOutcome::Require);
    assert_eq!(
        decision.groups,
        vec![GroupQuorum {
            group: "finance".into(),
            quorum: 2
        }]
    );
}

#[test]
fn between_the_thresholds_no_rule_matches_and_the_policy_applies() {
    let middle = details(json!(4500));
    let decision = decide(&["openid"], Some(&middle), &[], None);
    assert_eq!(decision.outcome, RuleOutcome::None);
    assert!(decision.rules.is_empty());
}

#[test]
fn deny_wins_over_an_approving_rule() {
    let small = details(json!(450));
    let decision = decide(&["openid"], Some(&small), &[], Some("contractor"));
    assert_eq!(decision.outcome, RuleOutcome::Deny);
    assert_eq!(decision.rules, vec!["no-contractors"]);
}

#[test]
fn every_sensitive_part_must_be_approved_for_the_request_to_be() {
    let small = details(json!(450));
    let both = decide(&["ledger:read"], Some(&small), &["treasury"], None);
    assert_eq!(both.outcome, RuleOutcome::Approve);
    let not_treasury = decide(&["ledger:read"], Some(&small), &["sales"], None);
    assert_eq!(not_treasury.outcome, RuleOutcome::Require);
    assert_eq!(not_treasury.rules, vec!["small-payments"]);
}

#[test]
fn fractions_reach_cedar_as_strings_and_an_erring_rule_approves_nothing() {
    let fraction = details(json!(12.5));
    let decision = decide(&["openid"], Some(&fraction), &[], None);
    // `amount <= 1000` errs on a string: nothing is approved without a human.
    assert_eq!(decision.outcome, RuleOutcome::Require);
    assert!(!decision.errors.is_empty());
}

#[test]
fn bad_rule_sets_are_refused_with_the_reason() {
    assert!(RuleSet::parse(1, "permit(")
        .unwrap_err()
        .starts_with("not Cedar"));
    let forbid_require = r#"@require("x") forbid(principal, action, resource);"#;
    assert!(RuleSet::parse(1, forbid_require)
        .unwrap_err()
        .contains("a forbid denies"));
    let bad_group = r#"@require("finance:0") permit(principal, action, resource);"#;
    assert!(RuleSet::parse(1, bad_group)
        .unwrap_err()
        .contains("GROUP or GROUP:N"));
    assert_eq!(
        RuleSet::parse(1, RULES).unwrap().required_groups(),
        vec!["finance"]
    );
}

#[test]
fn on_the_back_channel_the_client_is_the_principal_and_the_subject_is_context() {
    let set = RuleSet::parse(
        1,
        r#"
        @id("treasurers") permit(principal in Group::"treasury", action, resource);
        @id("subject-treasurers") @require("finance")
        permit(principal, action, resource) when { context.subject.groups.contains("treasury") };
        "#,
    )
    .unwrap();
    let groups = vec!["treasury".to_owned()];
    let attributes = BTreeMap::new();
    let input = |channel| RuleInput {
        username: "alice",
        groups: &groups,
        attributes: &attributes,
        client_id: "agent",
        scopes: vec!["ledger:read"],
        sensitive_scopes: vec!["ledger:read"],
        details: None,
        channel,
        now: 1_796_608_800,
        hooks: &[],
    };
    let front = set.evaluate(&input("front"));
    assert_eq!(
        front.outcome,
        RuleOutcome::Require,
        "both match: finance is added"
    );
    assert_eq!(front.rules, vec!["subject-treasurers", "treasurers"]);
    let back = set.evaluate(&input("back"));
    assert_eq!(
        back.rules,
        vec!["subject-treasurers"],
        "a client naming a treasurer is not one"
    );
    assert_eq!(back.outcome, RuleOutcome::Require);
}

#[test]
fn a_clients_keys_never_become_cedar_escapes() {
    let sneaky = AuthorizationDetails::from_value(json!([
        {"type": "payment", "amount": 10, "x": {"__extn": {"fn": "ip", "arg": "bad"}}}
    ]))
    .unwrap();
    let decision = decide(&["openid"], Some(&sneaky), &[], None);
    assert_eq!(decision.outcome, RuleOutcome::Approve, "{decision:?}");
}
