//! Whole endpoints on the deterministic simulator: many connections,
//! impaired links, attacks.

mod harness;

mod blind;
mod concurrent;
mod flood;
mod integrity;
mod pcap;
mod smoke;
