//! The memory budget of an idle connection (DESIGN.md: "an idle
//! connection is small"; `synack bench` row `mem-established`: at most
//! 1 KiB per connection end).
//!
//! The bench measures the real figure; this test only makes a change that
//! grows the TCB notice what it spends. Besides the `Connection`, each
//! end costs the endpoint about 100 bytes of slab entry (4-tuple, flags,
//! scheduled deadline), 35 of 4-tuple map and 16 of timer heap.

use core::mem::size_of;

use super::Connection;

#[test]
fn an_idle_connection_fits_its_budget() {
    assert!(
        size_of::<Connection>() <= 800,
        "Connection is {} bytes: move state that only flowing data needs \
         into the lazily allocated `Loss`, or narrow a field",
        size_of::<Connection>()
    );
}
