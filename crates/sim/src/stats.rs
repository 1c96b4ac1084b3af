//! Counters kept by the network, per link, per host and for the router.

/// What happened to the packets offered to one link.
///
/// Every offered packet ends in exactly one of: delivered, `dropped_filter`,
/// `dropped_queue`, `dropped_loss`, or still in flight. Duplicates are
/// counted once more in `delivered_*`, so
/// `sent_packets + duplicated == delivered_packets + dropped_* + in flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets offered to the link.
    pub sent_packets: u64,
    /// Bytes offered to the link.
    pub sent_bytes: u64,
    /// Packets that came out at the far end (duplicates included).
    pub delivered_packets: u64,
    /// Bytes that came out at the far end (duplicates included).
    pub delivered_bytes: u64,
    /// Packets a filter dropped (see [`Network::add_filter`](crate::Network::add_filter)).
    pub dropped_filter: u64,
    /// Packets dropped because the queue was full.
    pub dropped_queue: u64,
    /// Packets lost at random (`loss`, `burst`).
    pub dropped_loss: u64,
    /// Packets delivered twice (`dup`).
    pub duplicated: u64,
    /// Packets with a flipped bit (`corrupt`).
    pub corrupted: u64,
    /// Packets held back to be overtaken (`reorder`).
    pub reordered: u64,
    /// The largest number of packets that waited in the queue at once.
    pub max_queue: u64,
}

/// What one host sent and received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Packets returned by `poll_transmit`.
    pub sent_packets: u64,
    /// Bytes returned by `poll_transmit`.
    pub sent_bytes: u64,
    /// Packets handed to `receive`.
    pub received_packets: u64,
    /// Bytes handed to `receive`.
    pub received_bytes: u64,
    /// Calls of `handle_timeout`.
    pub timeouts: u64,
}

/// What the central router did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Packets forwarded to a host's downlink.
    pub forwarded: u64,
    /// Well-formed packets whose destination no host has (and no default
    /// route); dropped.
    pub unroutable: u64,
    /// Packets too short for their IP version, or of no known version;
    /// dropped.
    pub malformed: u64,
}
