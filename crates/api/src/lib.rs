//! The wire format of paycore's HTTP API: request and response bodies, shared by the server
//! (which maps them to and from the domain) and the command-line client. Core types never
//! derive serde; these are the only JSON shapes.

pub mod accounting;
pub mod adjustments;
mod errors;
pub mod ledger;
pub mod notifications;
mod patch;
pub mod payments;
pub mod recon;

pub use errors::{ErrorBody, ErrorDetail, Role};
pub use patch::double_option;
