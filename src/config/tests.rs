//! Settings: durations, defaults and the key named by a bad value.

use super::*;

#[test]
fn request_lifetimes_are_settings_with_defaults() {
    let defaults = Config::from_raw(RawSettings::default()).unwrap();
    assert_eq!(
        defaults.authorization_request_ttl,
        Duration::from_secs(1800)
    );
    assert_eq!(defaults.continue_after_approval, Duration::from_secs(3600));
    let set = Config::from_raw(RawSettings {
        authorization_request_ttl: Some("5m".into()),
        continue_after_approval: Some("2h".into()),
        ..RawSettings::default()
    })
    .unwrap();
    assert_eq!(set.authorization_request_ttl, Duration::from_secs(300));
    assert_eq!(set.continue_after_approval, Duration::from_secs(7200));
    let bad = Config::from_raw(RawSettings {
        continue_after_approval: Some("later".into()),
        ..RawSettings::default()
    });
    assert_eq!(bad.map(|_| ()).unwrap_err().key, "continue_after_approval");
}

#[test]
fn durations_accept_any_positive_value() {
    assert_eq!(parse_duration("4s"), Ok(Duration::from_secs(4)));
    assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
    assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    assert!(parse_duration("0s").is_err());
    assert!(parse_duration("soon").is_err());
}

#[test]
fn a_bad_value_names_its_key() {
    let raw = RawSettings {
        access_token_ttl: Some("forever".into()),
        ..RawSettings::default()
    };
    let error = Config::from_raw(raw).unwrap_err();
    assert_eq!(error.key, "access_token_ttl");
    let raw = RawSettings {
        issuer: Some("http://x.example/".into()),
        ..RawSettings::default()
    };
    assert_eq!(Config::from_raw(raw).unwrap_err().key, "issuer");
}

#[test]
fn trusted_proxies_are_a_comma_separated_list_of_addresses() {
    let raw = RawSettings {
        trusted_proxies: Some("10.0.0.1, ::1".into()),
        ..RawSettings::default()
    };
    assert_eq!(Config::from_raw(raw).unwrap().trusted_proxies.len(), 2);
    let raw = RawSettings {
        trusted_proxies: Some("10.0.0.1, proxy".into()),
        ..RawSettings::default()
    };
    assert_eq!(Config::from_raw(raw).unwrap_err().key, "trusted_proxies");
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = Config::from_raw(RawSettings::default()).unwrap();
    assert_eq!(config.issuer, "http://127.0.0.1:8080");
    assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(config.code_ttl, Duration::from_secs(60));
    assert!(
        matches!(config.database_url, DatabaseUrl::Sqlite(ref p) if p.ends_with("countersign-data/countersign.sqlite3"))
    );
}

#[test]
fn the_console_defaults_to_the_admins_group_and_any_second_factor() {
    let config = Config::from_raw(RawSettings::default()).unwrap();
    assert_eq!(config.admin_group, "admins");
    assert_eq!(config.admin_factor, crate::approval::ApproverFactor::Any);
    let raw = RawSettings {
        admin_group: Some(" it-admins ".into()),
        admin_factor: Some("passkey".into()),
        ..RawSettings::default()
    };
    let config = Config::from_raw(raw).unwrap();
    assert_eq!(config.admin_group, "it-admins");
    assert_eq!(
        config.admin_factor,
        crate::approval::ApproverFactor::Passkey
    );
    for (raw, key) in [
        (
            RawSettings {
                admin_factor: Some("sms".into()),
                ..RawSettings::default()
            },
            "admin_factor",
        ),
        (
            RawSettings {
                admin_group: Some("it admins".into()),
                ..RawSettings::default()
            },
            "admin_group",
        ),
    ] {
        assert_eq!(Config::from_raw(raw).unwrap_err().key, key);
    }
}
