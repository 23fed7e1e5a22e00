//! `/admin`: admins only (the `admins` group), a fresh sign-in for changes, CSRF on
//! every form, refusals that keep what was typed, and every change audited as the admin.

use reqwest::StatusCode;

use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{browser, hidden_input, unescape, TestClient, REDIRECT_URI};

/// The CSRF token of an admin page.
async fn csrf_of(app: &TestApp<ApprovalSeed>, admin: &reqwest::Client, path: &str) -> String {
    let page = app.get(admin, path).await;
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    hidden_input(&page.text().await.unwrap(), "csrf_token").expect("a CSRF token")
}

/// Registers a confidential client from the console; returns it with its secret.
async fn register(
    app: &TestApp<ApprovalSeed>,
    admin: &reqwest::Client,
    scopes: &str,
) -> TestClient {
    let csrf = csrf_of(app, admin, "/admin/clients/new").await;
    let created = app
        .post(
            admin,
            "/admin/clients",
            &[
                ("csrf_token", &csrf),
                ("name", "Treasury App"),
                ("redirect_uris", REDIRECT_URI),
                ("post_logout_redirect_uris", ""),
                ("scopes", scopes),
                ("kind", "confidential"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    let field = |start: &str| {
        let from = html.find(start).map(|i| i + start.len())?;
        let to = html[from..].find("</code>")? + from;
        Some(unescape(&html[from..to]))
    };
    TestClient {
        client_id: field("<dt>Client id</dt><dd><code>").expect("the client id"),
        secret: field("<code id=\"secret\">"),
    }
}

#[tokio::test]
async fn only_admins_enter_and_visitors_are_sent_to_sign_in() {
    // Arrange
    let app = approval_app().await;
    let dave = app.signed_in(&app.dave).await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let visitor = app.get(&browser(), "/admin/clients").await;
    let outsider = app.get(&dave, "/admin").await;
    let inside = app.get(&admin, "/admin").await;
    // Assert
    assert_eq!(visitor.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        visitor.headers()["location"].to_str().unwrap(),
        "/login?return_to=%2Fadmin%2Fclients"
    );
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
    assert_eq!(inside.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_registers_a_client_and_makes_a_scope_sensitive_and_the_client_is_countersigned() {
    // Arrange
    let mut app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let metadata = || async {
        let url = app.url("/.well-known/openid-configuration");
        let document = app.http.get(url).send().await.unwrap();
        document.json::<serde_json::Value>().await.unwrap()
    };
    let before = metadata().await;
    // Act: a new sensitive scope, approved by `approvers`, and a client that may ask for it
    let csrf = csrf_of(&app, &admin, "/admin/scopes/new").await;
    let scope = app
        .post(
            &admin,
            "/admin/scopes",
            &[
                ("csrf_token", &csrf),
                ("name", "treasury:move"),
                ("description", "Move treasury funds"),
                ("claims", ""),
                ("sensitive", "yes"),
                ("approvers", "approvers"),
                ("quorum", "1"),
                ("pending_ttl", "15m"),
                ("access_duration", "1h"),
                ("approver_max_age", "10m"),
                ("approver_factor", "none"),
                ("require_justification", "no"),
            ],
        )
        .await;
    let client = register(&app, &admin, "openid profile treasury:move").await;
    // Assert: the console shows them
    assert_eq!(scope.status(), StatusCode::SEE_OTHER);
    // ...and discovery advertises the scope at once (the document kept in memory is
    // forgotten by a change made through this instance).
    let sensitive =
        |doc: &serde_json::Value| doc["countersign_sensitive_scopes_supported"].to_string();
    assert!(!sensitive(&before).contains("treasury:move"));
    assert!(sensitive(&metadata().await).contains("treasury:move"));
    let scopes = app.get(&admin, "/admin/scopes").await.text().await.unwrap();
    assert!(scopes.contains("treasury:move"), "{scopes}");
    assert!(
        scopes.contains("Needs a countersignature:</strong> 1 approval from approvers"),
        "{scopes}"
    );
    assert!(scopes.contains("Used by Treasury App"), "{scopes}");
    assert!(
        client.secret.is_some(),
        "a confidential client's secret is shown once"
    );
    // Assert: and the client is countersigned end to end
    app.seed.client = client;
    let alice = browser();
    let pending = app
        .request_access_in(&alice, &app.alice, "openid profile treasury:move")
        .await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    let tokens = app.exchange(&app.code_of(&response)).await;
    let claims = crate::approval::client::jwt_payload(&tokens.access_token);
    assert_eq!(claims["approval"]["approvers"][0], app.bob.id.as_str());
    let created = app.events("client.created");
    let last = created.last().expect("the registration is audited");
    assert!(
        last.actor.contains(&app.admin.id),
        "audited as the admin: {}",
        last.actor
    );
}

#[tokio::test]
async fn a_refused_form_says_why_and_keeps_what_was_typed() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let csrf = csrf_of(&app, &admin, "/admin/clients/new").await;
    // Act
    let refused = app
        .post(
            &admin,
            "/admin/clients",
            &[
                ("csrf_token", &csrf),
                ("name", "Typed Name"),
                ("redirect_uris", "not a url"),
                ("scopes", "openid"),
                ("kind", "public"),
            ],
        )
        .await;
    // Assert
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"Typed Name\""), "{html}");
    assert!(html.contains("not a url"), "{html}");
    assert_eq!(
        app.events("client.created").len(),
        1,
        "only the seed's: nothing half-saved"
    );
}

#[tokio::test]
async fn changes_need_a_fresh_sign_in_and_a_valid_csrf_token() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let csrf = csrf_of(&app, &admin, "/admin/clients/new").await;
    let form = |token: &str| {
        [
            ("csrf_token", token.to_owned()),
            ("name", "Late".to_owned()),
            ("redirect_uris", REDIRECT_URI.to_owned()),
            ("scopes", "openid".to_owned()),
            ("kind", "public".to_owned()),
        ]
    };
    let post = |token: &str| {
        let form = form(token);
        let request = admin.post(app.url("/admin/clients")).form(&form);
        async move { request.send().await.unwrap() }
    };
    // Act
    let forged = post("forged").await;
    app.clock.advance(11 * 60);
    let stale = post(&csrf).await;
    // Assert
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);
    assert!(stale.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("&fresh=1"));
    assert_eq!(app.events("client.created").len(), 1, "only the seed's");
}

#[tokio::test]
async fn a_rotated_secret_is_shown_once_and_the_old_one_stops_working_and_removal_revokes() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let client = register(&app, &admin, "openid").await;
    let csrf = csrf_of(&app, &admin, "/admin/clients").await;
    // Act
    let rotated = app
        .post(
            &admin,
            &format!("/admin/clients/{}/rotate-secret", client.client_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    let html = rotated.text().await.unwrap();
    let old = app
        .post_as(&client, "/introspect", &[("token", "anything")])
        .await;
    let removed = app
        .post(
            &admin,
            &format!("/admin/clients/{}/remove", client.client_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    // Assert
    assert!(html.contains("New client secret"), "{html}");
    assert!(
        !html.contains(client.secret.as_deref().unwrap()),
        "the old secret is gone"
    );
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the old secret stops working"
    );
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let listed = app
        .get(&admin, "/admin/clients")
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&client.client_id), "{listed}");
    assert_eq!(app.events("client.secret_rotated").len(), 1);
    assert_eq!(app.events("client.removed").len(), 1);
}

#[tokio::test]
async fn approvals_are_found_by_state_requester_and_approver() {
    // Arrange: alice asks twice (bob approves the first), dave asks once
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let second = app.request_again(&alice).await;
    let (_, dave) = app.request_access(&app.dave).await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &first.approval_id).await;
    let admin = app.signed_in(&app.admin).await;
    let search = |query: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let page = app.get(&admin, &format!("/admin/approvals?{query}")).await;
            assert_eq!(page.status(), StatusCode::OK, "{query}");
            page.text().await.unwrap()
        }
    };
    // Act
    let pending = search("state=pending").await;
    let by_dave = search("requester=dave").await;
    let by_bob = search("approver=bob").await;
    let nobody = search("requester=nobody").await;
    let all = search("").await;
    // Assert
    let shows = |html: &str, id: &str| html.contains(&format!("/approvals/{id}\""));
    assert!(
        shows(&pending, &second) && shows(&pending, &dave.approval_id),
        "{pending}"
    );
    assert!(!shows(&pending, &first.approval_id));
    assert!(shows(&by_dave, &dave.approval_id) && !shows(&by_dave, &second));
    assert!(shows(&by_bob, &first.approval_id) && !shows(&by_bob, &second));
    assert!(nobody.contains("No approval matches"), "{nobody}");
    assert!(
        shows(&all, &first.approval_id) && shows(&all, &second) && shows(&all, &dave.approval_id)
    );
}

#[tokio::test]
async fn an_admin_rotates_the_keys_and_reads_verifies_and_exports_the_audit_trail() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let before = app.get(&admin, "/admin/keys").await.text().await.unwrap();
    let csrf = hidden_input(&before, "csrf_token").unwrap();
    // Act
    let rotated = app
        .post(&admin, "/admin/keys/rotate", &[("csrf_token", &csrf)])
        .await;
    let after = app.get(&admin, "/admin/keys").await.text().await.unwrap();
    let trail = app.get(&admin, "/admin/audit").await.text().await.unwrap();
    let filtered = app
        .get(&admin, "/admin/audit?action=key.rotated")
        .await
        .text()
        .await
        .unwrap();
    let export = app.get(&admin, "/admin/audit/export").await;
    // Assert
    assert_eq!(rotated.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        before.matches("<strong>active</strong>").count(),
        3,
        "{before}"
    );
    assert_eq!(
        after.matches("<strong>active</strong>").count(),
        3,
        "{after}"
    );
    assert!(after.contains("retires"), "the old keys retire: {after}");
    assert!(trail.contains("The chain verifies"), "{trail}");
    assert_eq!(
        filtered.matches("<strong>key.rotated</strong>").count(),
        1,
        "{filtered}"
    );
    assert!(
        !filtered.contains("<strong>client.created</strong>"),
        "{filtered}"
    );
    let rotation = app.events("key.rotated");
    assert!(
        rotation[0].actor.contains(&app.admin.id),
        "audited as the admin"
    );
    assert_eq!(export.status(), StatusCode::OK);
    let lines = export.text().await.unwrap();
    assert_eq!(
        lines.lines().count(),
        app.audit().len(),
        "one JSON line per event"
    );
}

#[tokio::test]
async fn an_admin_adds_a_user_who_signs_in_and_manages_their_groups_password_and_access() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let csrf = csrf_of(&app, &admin, "/admin/users").await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let csrf = csrf.clone();
        let app = &app;
        async move {
            let mut form = form;
            form.push(("csrf_token", csrf));
            let response = admin.post(app.url(&path)).form(&form).send().await.unwrap();
            let status = response.status();
            (status, unescape(&response.text().await.unwrap()))
        }
    };
    let password_in = |html: &str| {
        let at = html
            .find("shown only now: ")
            .map(|i| i + "shown only now: ".len());
        at.map(|i| {
            html[i..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '<')
                .collect::<String>()
        })
    };
    // Act
    let (added, page) = post(
        "/admin/users".into(),
        vec![
            ("username", "erin".into()),
            ("email", "erin@example.com".into()),
            ("name", "".into()),
        ],
    )
    .await;
    let first = password_in(&page).expect("the first password is shown");
    let (twice, again) = post(
        "/admin/users".into(),
        vec![
            ("username", "erin".into()),
            ("email", "other@example.com".into()),
            ("name", "Typed".into()),
        ],
    )
    .await;
    let (joined, with_group) = post(
        "/admin/users/erin/groups".into(),
        vec![("group", "approvers".into())],
    )
    .await;
    let (_, reset) = post("/admin/users/erin/password".into(), vec![]).await;
    let second = password_in(&reset).expect("the new password is shown");
    let erin_signs_in = |password: String| {
        let app = &app;
        async move {
            let browser = browser();
            let page = app.get(&browser, "/login").await.text().await.unwrap();
            let csrf = hidden_input(&page, "csrf_token").unwrap();
            app.post(
                &browser,
                "/login",
                &[
                    ("username", "erin"),
                    ("password", &password),
                    ("csrf_token", &csrf),
                ],
            )
            .await
            .status()
        }
    };
    let old_password = erin_signs_in(first).await;
    let new_password = erin_signs_in(second.clone()).await;
    let (disabled, _) = post("/admin/users/erin/disable".into(), vec![]).await;
    let after_disable = erin_signs_in(second).await;
    // Assert
    assert_eq!(added, StatusCode::OK);
    assert_eq!(twice, StatusCode::BAD_REQUEST);
    assert!(
        again.contains("value=\"Typed\""),
        "the form keeps what was typed"
    );
    assert_eq!(joined, StatusCode::OK);
    assert!(
        with_group.contains("<code>payments:write</code>"),
        "erin may now approve: {with_group}"
    );
    assert_eq!(
        old_password,
        StatusCode::OK,
        "the old password is refused (the form again)"
    );
    assert_eq!(
        new_password,
        StatusCode::SEE_OTHER,
        "the new password signs in"
    );
    assert_eq!(disabled, StatusCode::OK);
    assert_eq!(
        after_disable,
        StatusCode::OK,
        "a disabled user cannot sign in"
    );
    assert_eq!(
        app.events("user.created").len(),
        6,
        "the seed's five and erin"
    );
    assert_eq!(app.events("user.disabled").len(), 1);
}

#[tokio::test]
async fn a_scope_page_previews_who_could_approve_it() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let page = app.get(&admin, "/admin/scopes/payments:write").await;
    // Assert
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<li>approvers: bob, carol</li>"), "{html}");
}

#[tokio::test]
async fn an_admin_edits_a_clients_registration_and_a_bad_uri_changes_nothing() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let client = register(&app, &admin, "openid").await;
    let path = format!("/admin/clients/{}", client.client_id);
    let csrf = csrf_of(&app, &admin, &path).await;
    let save = |redirects: &'static str| {
        let (admin, csrf, path) = (admin.clone(), csrf.clone(), path.clone());
        let app = &app;
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("name", "Treasury App v2"),
                ("redirect_uris", redirects),
                ("post_logout_redirect_uris", ""),
                ("scopes", "openid profile"),
            ];
            admin.post(app.url(&path)).form(&form).send().await.unwrap()
        }
    };
    // Act
    let refused = save("not a url").await;
    let saved = save("https://treasury.example/cb\nhttps://treasury.example/cb2").await;
    // Assert
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let listed = app
        .get(&admin, "/admin/clients")
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("Treasury App v2"), "{listed}");
    assert!(listed.contains("https://treasury.example/cb2"), "{listed}");
    let updates = app.events("client.updated");
    assert_eq!(updates.len(), 1, "the refused save changed nothing");
    assert!(
        updates[0].details.contains("\"before\""),
        "{}",
        updates[0].details
    );
}

#[tokio::test]
async fn an_admin_sets_and_removes_a_users_attribute_and_a_reserved_name_is_refused() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let csrf = csrf_of(&app, &admin, "/admin/users").await;
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let (admin, csrf) = (admin.clone(), csrf.clone());
        let app = &app;
        async move {
            let mut form: Vec<(&str, String)> =
                form.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            form.push(("csrf_token", csrf));
            let response = admin.post(app.url(path)).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    // Act
    let (set, page) = post(
        "/admin/users/alice/attributes",
        vec![("attribute", "department"), ("value", "Treasury")],
    )
    .await;
    let (reserved, _) = post(
        "/admin/users/alice/attributes",
        vec![("attribute", "iss"), ("value", "https://evil.example")],
    )
    .await;
    let (removed, after) = post(
        "/admin/users/alice/attributes/remove",
        vec![("attribute", "department")],
    )
    .await;
    // Assert
    assert_eq!(set, StatusCode::OK);
    assert!(page.contains("<dt>department</dt><dd>Treasury"), "{page}");
    assert_eq!(reserved, StatusCode::BAD_REQUEST);
    assert_eq!(removed, StatusCode::OK);
    assert!(!after.contains("<dt>department</dt>"), "{after}");
    assert_eq!(
        app.events("user.attribute_set").len(),
        2,
        "set and removed, audited"
    );
}
