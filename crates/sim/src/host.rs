//! [`Host`]: what the simulator needs from a host, the sans-IO contract of
//! the protocol core.

use wire::Instant;

/// A host attached to the simulated network: a sans-IO state machine that
/// takes IP packets in and gives IP packets out, on a clock it is handed.
///
/// This mirrors the protocol core's `Endpoint` (DESIGN.md, "The sans-IO
/// contract"). The network calls, for each host:
///
/// - [`receive`](Host::receive) when a packet is delivered to it;
/// - [`handle_timeout`](Host::handle_timeout) once the time returned by
///   [`poll_timeout`](Host::poll_timeout) has come;
/// - after each of those (and after the host was added or borrowed with
///   [`Network::host_mut`](crate::Network::host_mut)),
///   [`poll_transmit`](Host::poll_transmit) until it returns `None`, then
///   `poll_timeout` once to learn the next deadline.
///
/// A host must eventually return `None` from `poll_transmit`, and should not
/// keep asking for a timeout at or before the `now` it was just handled at:
/// both would keep the simulation at one instant forever.
pub trait Host {
    /// An IP packet (IPv4 or IPv6, starting at the IP header) arrived at
    /// `now`. It may be malformed or corrupted.
    fn receive(&mut self, now: Instant, packet: &[u8]);

    /// Writes the next packet to send into `buf` and returns its length, or
    /// `None` when there is nothing to send now. `buf` is
    /// [`MAX_PACKET`](crate::MAX_PACKET) bytes long; returning a length
    /// larger than `buf` panics.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;

    /// When [`handle_timeout`](Host::handle_timeout) must next run, or `None`
    /// when no timer is pending. A time in the past means "now".
    fn poll_timeout(&mut self) -> Option<Instant>;

    /// The deadline returned by `poll_timeout` has been reached; `now` is at
    /// or after it.
    fn handle_timeout(&mut self, now: Instant);
}

/// Boxed hosts are hosts, so that one network can hold different kinds
/// (`Network<Box<dyn Host + Send>>`).
impl<H: Host + ?Sized> Host for Box<H> {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        (**self).receive(now, packet)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        (**self).poll_transmit(now, buf)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        (**self).poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now)
    }
}
