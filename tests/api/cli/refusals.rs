//! Bad input: refused with one line on stderr, exit status 1, and nothing written
//! (DESIGN.md §6). The refusals are a table ([`refusal_cases!`]): one test per row,
//! each on a fresh database.

use super::{assert_refused, audit_head_seq, seed_client, seed_group, seed_user, snapshot, Cli};

/// Stands in an argument for the id of the seeded public client.
const PUBLIC_CLIENT: &str = "<public client id>";

/// One command line (with its standard input) and what its refusal must say.
type Refused = (&'static [&'static str], &'static str, &'static str);

/// Commands refused on one database.
struct Case {
    /// Users seeded first.
    users: &'static [&'static str],
    /// Groups seeded next, with their members.
    groups: &'static [(&'static str, &'static [&'static str])],
    /// Whether a public client is seeded last (its id replaces [`PUBLIC_CLIENT`]).
    public_client: bool,
    /// The commands, run in order: arguments, standard input, what stderr says.
    runs: &'static [Refused],
    /// The audit head's seq afterwards, when the suite pins it.
    audit_head: Option<i64>,
}

/// The defaults of a row: nothing seeded, no commands, no pinned audit head.
const CASE: Case = Case {
    users: &[],
    groups: &[],
    public_client: false,
    runs: &[],
    audit_head: None,
};

impl Case {
    /// Seeds, takes a snapshot, runs every command and asserts each was refused and
    /// that nothing changed. Each row is its own test, so a failure is reported under
    /// the row's name; `name` is in the messages of the assertions made here.
    fn run(self, name: &str) {
        // Arrange
        let cli = Cli::new();
        for user in self.users {
            seed_user(&cli.store(), user);
        }
        for (group, members) in self.groups {
            seed_group(&cli.store(), group, members);
        }
        let public = self.public_client.then(|| seed_client(&cli.store(), true));
        let before = snapshot(&cli.store());
        for (args, stdin, says) in self.runs {
            let args: Vec<&str> = args
                .iter()
                .map(|arg| match (*arg, &public) {
                    (PUBLIC_CLIENT, Some(id)) => id.as_str(),
                    _ => arg,
                })
                .collect();
            // Act
            let run = cli.run_with_stdin(&args, stdin);
            // Assert
            assert_refused(&run, says);
            assert_eq!(snapshot(&cli.store()), before, "{name}: {args:?}");
        }
        if let Some(seq) = self.audit_head {
            assert_eq!(audit_head_seq(&cli.store()), seq, "{name}");
        }
    }
}

/// One `#[test]` per row, named after the row.
macro_rules! refusal_cases {
    ($($name:ident: $case:expr,)+) => {
        $(
            #[test]
            fn $name() {
                $case.run(stringify!($name));
            }
        )+
    };
}

refusal_cases! {
    notification_channels_that_cannot_work_are_refused_and_write_nothing: Case {
        users: &["alice"],
        groups: &[("approvers", &[])],
        runs: &[
            (&["group", "set-notify", "approvers", "--slack-channel", "general"], "",
                "--slack-channel \"general\" is not a Slack channel id like C0123456789"),
            (&["group", "set-notify", "approvers", "--webhook", "http://example.com/hook"], "",
                "--webhook must be an https URL"),
            (&["group", "set-notify", "approvers", "--teams-webhook", "not a url"], "",
                "--teams-webhook must be an https URL"),
            (&["group", "set-notify", "approvers", "--email", "nobody"], "",
                "--email \"nobody\" is not an email address"),
            (&["group", "set-notify", "approvers"], "",
                "give --slack-channel, --slack-dm, --teams-webhook, --teams-conversation, --webhook, --email or --clear"),
            (&["group", "set-notify", "nosuch", "--email", "a@example.com"], "",
                "no group named \"nosuch\""),
            (&["user", "link-slack", "alice", "alice"], "",
                "\"alice\" is not a Slack user id like U0123456789"),
            (&["user", "link-teams", "alice", "oid"], "",
                "\"oid\" is not a Teams (Entra) object id"),
            (&["outbox", "retry", "nosuch"], "", "no undelivered notification \"nosuch\""),
            (&["outbox", "list", "--state", "lost"], "",
                "--state \"lost\" is not pending, delivered, dead or all"),
        ],
        ..CASE
    },
    adding_a_member_to_an_unknown_group_is_refused_and_writes_nothing: Case {
        users: &["alice"],
        runs: &[(&["group", "add-member", "nosuch", "alice"], "", "no group named \"nosuch\"")],
        ..CASE
    },
    adding_an_unknown_user_to_a_group_is_refused_and_writes_nothing: Case {
        groups: &[("approvers", &[])],
        runs: &[(&["group", "add-member", "approvers", "nobody"], "", "no user named \"nobody\"")],
        ..CASE
    },
    a_scope_with_an_unknown_approver_group_is_refused_and_writes_nothing: Case {
        groups: &[("finance", &[])],
        runs: &[(
            &[
                "scope", "add", "payments", "--description", "Move money", "--sensitive",
                "--approvers", "finance,nosuch",
            ],
            "",
            "no group named \"nosuch\"",
        )],
        ..CASE
    },
    a_duplicate_user_is_refused_and_writes_nothing: Case {
        users: &["alice"],
        runs: &[(
            &["user", "add", "alice", "--email", "other@example.com", "--password-stdin"],
            "long enough password\n",
            "user \"alice\" already exists",
        )],
        ..CASE
    },
    a_duplicate_group_is_refused_and_writes_nothing: Case {
        groups: &[("approvers", &[])],
        runs: &[(&["group", "add", "approvers"], "", "group \"approvers\" already exists")],
        ..CASE
    },
    a_malformed_redirect_uri_is_refused_and_writes_nothing: Case {
        runs: &[
            (
                &["client", "add", "--name", "RP", "--redirect-uri", "/callback", "--scope", "openid"],
                "",
                "is not an absolute URI",
            ),
            (
                &[
                    "client", "add", "--name", "RP", "--redirect-uri", "https://rp.example/cb#top",
                    "--scope", "openid",
                ],
                "",
                "must not contain a fragment",
            ),
            (
                &[
                    "client", "add", "--name", "RP", "--redirect-uri", "https://rp.example/c b",
                    "--scope", "openid",
                ],
                "",
                "contains whitespace",
            ),
        ],
        ..CASE
    },
    a_quorum_of_zero_is_refused_and_writes_nothing: Case {
        groups: &[("finance", &[])],
        runs: &[(
            &[
                "scope", "add", "payments", "--description", "Move money", "--sensitive",
                "--approvers", "finance", "--quorum", "0",
            ],
            "",
            "--quorum must be at least 1",
        )],
        ..CASE
    },
    a_sensitive_scope_without_approvers_is_refused_and_writes_nothing: Case {
        runs: &[(
            &["scope", "add", "payments", "--description", "Move money", "--sensitive"],
            "",
            "needs --approvers",
        )],
        ..CASE
    },
    a_client_with_an_unknown_scope_is_refused_and_writes_nothing: Case {
        runs: &[(
            &[
                "client", "add", "--name", "RP", "--redirect-uri", "https://rp.example/cb",
                "--scope", "openid nosuch",
            ],
            "",
            "no scope named \"nosuch\"",
        )],
        ..CASE
    },
    a_password_shorter_than_eight_characters_is_refused_and_writes_nothing: Case {
        users: &["alice"],
        runs: &[
            (
                &["user", "add", "bob", "--email", "bob@example.com", "--password-stdin"],
                "1234567\n",
                "password must be at least 8 characters",
            ),
            (
                &["user", "set-password", "alice", "--password-stdin"],
                "short\n",
                "password must be at least 8 characters",
            ),
        ],
        ..CASE
    },
    removing_a_user_who_is_not_a_member_is_refused_and_writes_nothing: Case {
        users: &["alice", "bob"],
        groups: &[("approvers", &["bob"])],
        runs: &[(
            &["group", "remove-member", "approvers", "alice"],
            "",
            "\"alice\" is not a member of \"approvers\"",
        )],
        ..CASE
    },
    changing_things_that_do_not_exist_is_refused_and_writes_nothing: Case {
        public_client: true,
        runs: &[
            (&["user", "disable", "nobody"], "", "no user named \"nobody\""),
            (&["client", "remove", "nosuch"], "", "no client \"nosuch\""),
            (&["client", "rotate-secret", "nosuch"], "", "no client \"nosuch\""),
            (&["client", "rotate-secret", PUBLIC_CLIENT], "", "is public and has no secret"),
            (&["scope", "update", "nosuch", "--quorum", "2"], "", "no scope named \"nosuch\""),
        ],
        // Only the seeded client.
        audit_head: Some(1),
        ..CASE
    },
}
