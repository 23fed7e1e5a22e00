//! Every error of the token endpoint for the authorization code grant (RFC 6749 §5.2
//! JSON, `Cache-Control: no-store`): PKCE (RFC 7636, RFC 9700 §2.1.1), code replay and
//! expiry, client authentication (RFC 6749 §2.3.1, DESIGN.md §8), malformed bodies.
//! The plain refusals are a table ([`token_error_cases!`]): one test per row, each on a
//! fresh app, pinning status, `error`, `error_description` and any challenge.

use countersign::manage::ClientSpec;
use reqwest::{header, RequestBuilder, StatusCode};

use super::support::{
    assert_invalid_token, assert_oauth_error, assert_refresh_refused, browser, code_of, exchange,
    exchange_request, introspect, jwt_part, login_and_consent, oidc_app, tokens_for, tokens_of,
    AuthRequest, OidcSeed, Pkce, TestApp, TestClient, NONCE, REDIRECT_URI,
};

/// A code for `request` (alice logs in and consents in a new browser).
async fn code_for(app: &TestApp<OidcSeed>, request: AuthRequest) -> String {
    let response = login_and_consent(app, &browser(), &request.path()).await;
    code_of(app, &response)
}

/// The code a case starts from.
#[derive(Clone, Copy)]
enum Start {
    /// No code.
    Nothing,
    /// A code for `rp`, without PKCE.
    Code,
    /// A code for `rp` with an S256 challenge.
    PkceCode,
    /// A code for `spa` with an S256 challenge.
    SpaPkceCode,
    /// A code for `rp`, without PKCE, 61 s old (codes live 60 s).
    ExpiredCode,
}

/// What the case's request gets: the code and the verifier of its challenge, if any.
struct Issued {
    code: String,
    verifier: Option<String>,
}

/// One refusal of the token endpoint.
struct Case {
    start: Start,
    /// The request (Act), built from the app and the issued code.
    request: fn(&TestApp<OidcSeed>, &Issued) -> RequestBuilder,
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// The `WWW-Authenticate` challenge a 401 must carry, when the suite pins it.
    challenge: Option<&'static str>,
}

impl Case {
    /// Arrange on a fresh app, send the request and assert the refusal. Each row is its
    /// own test, so a failure is reported under the row's name; `name` is in the
    /// messages of the assertions made here.
    async fn run(self, name: &str) {
        // Arrange
        let app = oidc_app().await;
        let pkce = Pkce::new();
        let (request, verifier) = match self.start {
            Start::Nothing => (None, None),
            Start::Code | Start::ExpiredCode => (Some(AuthRequest::new(&app.rp)), None),
            Start::PkceCode => (
                Some(AuthRequest::new(&app.rp).pkce(&pkce)),
                Some(pkce.verifier),
            ),
            Start::SpaPkceCode => (
                Some(AuthRequest::new(&app.spa).pkce(&pkce)),
                Some(pkce.verifier),
            ),
        };
        let code = match request {
            Some(request) => code_for(&app, request).await,
            None => String::new(),
        };
        if let Start::ExpiredCode = self.start {
            app.clock.advance(61);
        }
        let issued = Issued { code, verifier };
        // Act
        let response = (self.request)(&app, &issued)
            .send()
            .await
            .expect("the request is sent");
        // Assert
        let headers = assert_oauth_error(response, self.status, self.error, self.description).await;
        if let Some(challenge) = self.challenge {
            assert_eq!(headers[header::WWW_AUTHENTICATE], challenge, "{name}");
        }
    }
}

/// One `#[tokio::test]` per row, named after the row.
macro_rules! token_error_cases {
    ($($name:ident: $case:expr,)+) => {
        $(
            #[tokio::test]
            async fn $name() {
                $case.run(stringify!($name)).await;
            }
        )+
    };
}

/// The `/token` form of the authorization code grant with `extra` pairs.
fn code_form<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    form.extend_from_slice(extra);
    form
}

token_error_cases! {
    a_wrong_code_verifier_is_invalid_grant: Case {
        start: Start::PkceCode,
        request: |app, issued| {
            exchange_request(app, &app.rp, &issued.code, Some(&Pkce::new().verifier))
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "code_verifier does not match the code_challenge",
        challenge: None,
    },
    a_missing_code_verifier_for_a_code_with_a_challenge_is_invalid_grant: Case {
        start: Start::PkceCode,
        request: |app, issued| exchange_request(app, &app.rp, &issued.code, None),
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "code_verifier is required for this code",
        challenge: None,
    },
    a_code_verifier_for_a_code_issued_without_a_challenge_is_invalid_grant: Case {
        start: Start::Code,
        request: |app, issued| {
            exchange_request(app, &app.rp, &issued.code, Some(&Pkce::new().verifier))
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "code_verifier sent but the code was issued without code_challenge",
        challenge: None,
    },
    an_expired_code_is_invalid_grant: Case {
        start: Start::ExpiredCode,
        request: |app, issued| exchange_request(app, &app.rp, &issued.code, None),
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "the authorization code has expired",
        challenge: None,
    },
    a_different_redirect_uri_at_the_token_endpoint_is_invalid_grant: Case {
        start: Start::Code,
        request: |app, issued| {
            let form = code_form(&issued.code, &[("redirect_uri", "http://rp.example/other")]);
            app.request_as(&app.rp, "/token", &form)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "redirect_uri does not match the authorization request",
        challenge: None,
    },
    // RFC 6749 §4.1.3: redirect_uri is required when it was sent at /authorize.
    a_missing_redirect_uri_at_the_token_endpoint_is_invalid_request: Case {
        start: Start::Code,
        request: |app, issued| app.request_as(&app.rp, "/token", &code_form(&issued.code, &[])),
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "redirect_uri is missing; it was sent in the authorization request",
        challenge: None,
    },
    a_code_issued_to_another_client_is_invalid_grant: Case {
        start: Start::Code,
        request: |app, issued| {
            let other = app.add_client(ClientSpec::default());
            exchange_request(app, &other, &issued.code, None)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description: "the authorization code was issued to another client",
        challenge: None,
    },
    a_wrong_client_secret_sent_with_basic_is_401_with_a_basic_challenge: Case {
        start: Start::Code,
        request: |app, issued| {
            let impostor = TestClient {
                client_id: app.rp.client_id.clone(),
                secret: Some("not-the-secret".into()),
            };
            exchange_request(app, &impostor, &issued.code, None)
        },
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "client authentication failed",
        challenge: Some(r#"Basic realm="countersign""#),
    },
    a_wrong_client_secret_sent_in_the_body_is_400_invalid_client: Case {
        start: Start::Code,
        request: |app, issued| {
            app.http.post(app.url("/token")).form(&code_form(
                &issued.code,
                &[
                    ("redirect_uri", REDIRECT_URI),
                    ("client_id", app.rp.client_id.as_str()),
                    ("client_secret", "not-the-secret"),
                ],
            ))
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_client",
        description: "client authentication failed",
        challenge: None,
    },
    // RFC 6749 §5.2: the client tried the Authorization header.
    an_authorization_header_of_another_scheme_is_401_invalid_client: Case {
        start: Start::Code,
        request: |app, issued| {
            app.http
                .post(app.url("/token"))
                .bearer_auth("some-token")
                .form(&code_form(
                    &issued.code,
                    &[
                        ("redirect_uri", REDIRECT_URI),
                        ("client_id", app.rp.client_id.as_str()),
                    ],
                ))
        },
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "the Authorization header is not valid Basic client authentication",
        challenge: Some(r#"Basic realm="countersign""#),
    },
    basic_and_a_secret_in_the_body_together_are_invalid_request: Case {
        start: Start::Code,
        request: |app, issued| {
            let secret = app.rp.secret.as_deref().unwrap();
            let form = code_form(
                &issued.code,
                &[("redirect_uri", REDIRECT_URI), ("client_secret", secret)],
            );
            app.request_as(&app.rp, "/token", &form)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "use only one client authentication method",
        challenge: None,
    },
    a_public_client_that_sends_a_secret_fails_authentication: Case {
        start: Start::SpaPkceCode,
        request: |app, issued| {
            let with_secret = TestClient {
                client_id: app.spa.client_id.clone(),
                secret: Some("anything".into()),
            };
            exchange_request(app, &with_secret, &issued.code, issued.verifier.as_deref())
        },
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "a public client must not send a secret",
        challenge: None,
    },
    a_repeated_parameter_at_the_token_endpoint_is_invalid_request_json: Case {
        start: Start::Code,
        request: |app, issued| {
            let form = code_form(
                &issued.code,
                &[("code", issued.code.as_str()), ("redirect_uri", REDIRECT_URI)],
            );
            app.request_as(&app.rp, "/token", &form)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "a parameter is repeated",
        challenge: None,
    },
    a_json_body_at_the_token_endpoint_is_invalid_request_json: Case {
        start: Start::Code,
        request: |app, issued| {
            let body = serde_json::json!({
                "grant_type": "authorization_code", "code": issued.code, "redirect_uri": REDIRECT_URI,
            });
            app.http
                .post(app.url("/token"))
                .basic_auth(&app.rp.client_id, app.rp.secret.as_deref())
                .json(&body)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "the body must be application/x-www-form-urlencoded",
        challenge: None,
    },
    an_unsupported_grant_type_is_refused: Case {
        start: Start::Nothing,
        request: |app, _| {
            let form = [("grant_type", "password"), ("username", "alice"), ("password", "x")];
            app.request_as(&app.rp, "/token", &form)
        },
        status: StatusCode::BAD_REQUEST,
        error: "unsupported_grant_type",
        description: "grant_type is not supported",
        challenge: None,
    },
    an_oversized_body_at_the_token_endpoint_is_invalid_request_json: Case {
        start: Start::Nothing,
        request: |app, _| {
            let body = format!("grant_type=authorization_code&code={}", "a".repeat(100 * 1024));
            app.http
                .post(app.url("/token"))
                .basic_auth(&app.rp.client_id, app.rp.secret.as_deref())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        },
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: "the request body is too large",
        challenge: None,
    },
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_revokes_the_tokens_it_gave() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let code = code_for(&app, AuthRequest::new(&app.rp).pkce(&pkce)).await;
    let first = tokens_of(exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await).await;
    assert_eq!(app.userinfo(&first.access_token).await.status(), 200);
    // Act
    let replay = exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(
        replay,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code was already used; tokens issued from it are revoked",
    )
    .await;
    assert_invalid_token(&app.userinfo(&first.access_token).await);
    let answer = introspect(&app, &app.rp, &first.access_token).await;
    assert_eq!(answer["active"], false, "{answer}");
    assert_refresh_refused(
        &app,
        &first.refresh_token.unwrap(),
        "the refresh token was revoked",
    )
    .await;
}

#[tokio::test]
async fn a_second_code_in_the_same_session_needs_no_new_login_or_consent() {
    // Arrange
    let app = oidc_app().await;
    let (browser, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app.get(&browser, &AuthRequest::new(&app.rp).path()).await;
    // Assert
    let code = code_of(&app, &response);
    let tokens = tokens_of(exchange(&app, &app.rp, &code, None).await).await;
    assert_eq!(jwt_part(&tokens.id_token.unwrap(), 1)["nonce"], NONCE);
}

#[tokio::test]
async fn client_secret_post_is_accepted_for_a_confidential_client() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", app.rp.client_id.as_str()),
            ("client_secret", app.rp.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    let tokens = tokens_of(response).await;
    assert!(tokens.id_token.is_some());
}
