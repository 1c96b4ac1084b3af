//! Pictures of TCP: ladder diagrams (text and SVG) and time–sequence
//! graphs, from the demo's simulation or from pcap captures.
//!
//! The pipeline, shared by `synack demo` and `synack trace`:
//!
//! 1. packets ([`capture::Packet`]: a [`segment::Seg`] with when it was
//!    sent and, if known, when it arrived), read from a pcap file by
//!    [`pcap`] or recorded by the demo;
//! 2. grouped into connections by 4-tuple ([`conns::group`]), with the
//!    remarks that follow from the segments ([`marks::infer`]:
//!    retransmissions, zero windows, …);
//! 3. each side's states: reported by the stack in the demo, inferred from
//!    the segments for captures ([`infer::infer`]);
//! 4. laid out as a [`ladder::Ladder`] (relative sequence numbers by
//!    default, as Wireshark shows them), drawn by [`text`] and [`svg`];
//!    the time–sequence graph by [`graph`].

pub mod capture;
pub mod conns;
pub mod graph;
pub mod infer;
pub mod ladder;
pub mod lang;
pub mod marks;
pub mod pcap;
pub mod segment;
pub mod svg;
pub mod text;
pub mod trace;
pub mod width;

pub use capture::{Mark, Packet};
pub use conns::{group, Conversation};
pub use infer::{Side, StateChange, Timeline};
pub use ladder::{Detail, Ladder, View};
pub use lang::Lang;
pub use segment::Seg;
