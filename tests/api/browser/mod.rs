//! Every page as a person meets it, in a real browser (issue 19 item 2): the demo's
//! countersignature walk in two browsers, the approver's page on a phone, the waiting
//! page without JavaScript. Each page is checked for console errors and with axe-core.

mod driver;
mod journeys;
