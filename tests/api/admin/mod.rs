//! The admin console (issue 19): who may enter and when, and the journeys an admin who
//! never used the CLI makes: register a relying party, make a scope sensitive with its
//! approvers, then that client completes a countersigned flow; and the second factor
//! its changes need.

mod client_options;
mod console;
mod notify;
mod step_up;
