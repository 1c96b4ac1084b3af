//! Whole endpoints on the deterministic simulator: many connections,
//! impaired links, attacks.

mod harness;

mod blind;
mod concurrent;
mod events_off;
mod flood;
mod fused_receive;
mod icmp;
mod integrity;
mod ipv6;
mod limits;
mod pcap;
mod rebuilt;
mod reset;
mod smoke;
mod time_wait;
