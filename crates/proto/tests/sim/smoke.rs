//! One transfer through two endpoints on a lossy simulated link.

use std::time::Duration;

use proto::endpoint::EndpointConfig;

use crate::harness::*;

#[test]
fn one_transfer_through_endpoints() {
    let size = 300_000;
    let (mut net, c, s) = two_hosts(
        7,
        "rate=10mbit,delay=5ms,loss=0.02",
        EndpointConfig::default(),
        Box::new(BulkClient::new(server_addr(), size, 1, 3)),
        Box::new(Sink::new(16)),
    );
    let limit = net.now() + Duration::from_secs(120);
    net.run_while(|net| {
        net.now() < limit
            && (app::<BulkClient>(net, c).finished < 1 || net.host(s).ep.connection_count() > 0)
    });
    let sink = app::<Sink>(&net, s);
    assert_eq!(sink.done, [(size, expected(size, 3))]);
    let client = app::<BulkClient>(&net, c);
    assert_eq!(client.finished, 1);
    assert!(client.errors.is_empty(), "{:?}", client.errors);
    assert_eq!(net.host(c).ep.connection_count(), 0, "client released");
    assert_eq!(net.host(s).ep.connection_count(), 0, "server released");
}
