//! The memory budget of an idle connection (DESIGN.md: "an idle
//! connection is small"; `synack bench` row `mem-established`: at most
//! 1 KiB per connection end).
//!
//! The bench measures the real figure; this test only makes a change that
//! grows the TCB notice what it spends. Besides the `Connection`, each
//! end costs the endpoint about 50 bytes of slab entry (packed 4-tuple,
//! listener, flags, scheduled deadline), 35 of 4-tuple map and 16 of
//! timer heap: 832 bytes of TCB keep the whole under 1 KiB with some room
//! (it is 824 now).

use core::mem::size_of;

use super::Connection;

#[test]
fn an_idle_connection_fits_its_budget() {
    assert!(
        size_of::<Connection>() <= 832,
        "Connection is {} bytes: move state that only flowing data needs \
         into the lazily allocated `Loss`, or narrow a field",
        size_of::<Connection>()
    );
}
