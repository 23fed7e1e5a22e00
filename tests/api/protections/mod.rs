//! Protections that had no test of their own (issue 17 item 2): RP-initiated logout
//! that cannot be steered, approvals that expire unredeemed, disabled users, the client
//! address behind proxies, `Secure` cookies, approvers who leave their group, and races
//! (cancel against approve, revoke against redeem, parallel refreshes). Every test runs
//! on the backend `TestDb` picks (SQLite by default, PostgreSQL with
//! `TEST_DATABASE_URL`).

mod cookies;
mod disabled_user;
mod expiry;
mod logout;
mod membership;
mod proxies;
mod races;
