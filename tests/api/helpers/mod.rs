//! Shared test fixtures: a fresh database per test ([`TestDb`]) on SQLite (default) or
//! PostgreSQL (`TEST_DATABASE_URL`), the real application serving on it ([`TestApp`]),
//! the real binary as a child process ([`ServeProcess`]), and the web helpers every
//! suite uses (browser, login form, redirects, RFC 6749 §5.2 errors).

mod app;
mod db;
mod gate;
mod process;
mod receivers;
mod web;

pub use app::*;
pub use db::*;
pub use gate::*;
pub use process::*;
pub use receivers::*;
pub use web::*;
