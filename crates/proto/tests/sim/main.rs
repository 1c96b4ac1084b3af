//! Whole endpoints on the deterministic simulator: many connections,
//! impaired links, attacks.

mod harness;

mod smoke;
