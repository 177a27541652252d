//! Administration: API keys and the audit log (role `admin`).

pub mod audit;
pub mod keys;
