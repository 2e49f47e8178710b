//! One module per screen, each with its own state, its views and the pure logic beside them.

pub mod audit_log;
pub mod connections;
pub mod containers;
pub mod diagnosis;
pub mod upgrade;
