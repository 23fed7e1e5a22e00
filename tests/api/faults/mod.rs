//! Reliability under faults (issue 17 item 3): the database going away and coming
//! back, a server killed with work in flight, crowds deciding or redeeming at once,
//! several instances on one database, and slow clients. Loopback only, bounded in time
//! and in loop count.

mod crash;
mod crowds;
mod database_outage;
mod instances;
mod slow_clients;
