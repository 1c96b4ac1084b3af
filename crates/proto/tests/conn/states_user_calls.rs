//! The user calls of RFC 9293 §3.9 / §3.10.1–§3.10.6 — OPEN, SEND,
//! RECEIVE, CLOSE (and its half, shutdown), ABORT, STATUS — in each of the
//! eleven states, and the deadlines each state keeps.

use std::time::Duration;

use proto::conn::{Cause, CloseReason, Error, Event, State};
use wire::tcp::TcpFlags;

use crate::harness::*;
use crate::states_setup::*;

#[test]
fn open_active_enters_syn_sent() {
    let t = Tcb::client(plain());
    assert_eq!(
        t.events,
        [Event::StateChanged {
            from: State::Closed,
            to: State::SynSent,
            cause: Cause::ActiveOpen
        }]
    );
    assert!(!t.conn.is_closed());
}

#[test]
fn open_passive_enters_listen() {
    let t = Tcb::listener(plain());
    assert_eq!(
        t.events,
        [Event::StateChanged {
            from: State::Closed,
            to: State::Listen,
            cause: Cause::PassiveOpen
        }]
    );
    assert_eq!((t.conn.local_port(), t.conn.remote_port()), (LOCAL, 0));
}

#[test]
fn send_in_every_state() {
    use Error::*;
    for state in State::ALL {
        let mut t = reach(state);
        let want = match state {
            State::Closed => Err(Closed(CloseReason::Aborted)),
            State::Listen => Err(InvalidState),
            State::SynSent | State::SynReceived | State::Established | State::CloseWait => Ok(1),
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => Err(InvalidState),
        };
        assert_eq!(t.conn.send(b"x"), want, "SEND in {state}");
    }
}

#[test]
fn recv_in_every_state() {
    use Error::*;
    for state in State::ALL {
        let mut t = reach(state);
        let want = match state {
            State::Closed => Err(Closed(CloseReason::Aborted)),
            State::Listen => Err(InvalidState),
            State::SynSent
            | State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2 => Err(WouldBlock),
            // The peer's FIN was received: end of stream.
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait => Ok(0),
        };
        assert_eq!(recv_result(&mut t), want, "RECEIVE in {state}");
    }
}

#[test]
fn close_in_every_state() {
    for state in State::ALL {
        let mut t = reach(state);
        t.conn.close(t.now);
        let out = t.out();
        let (want_seg, want_state) = match state {
            State::Established => (Some((FIN | ACK, X + 1, Y + 1)), State::FinWait1),
            State::CloseWait => (Some((FIN | ACK, X + 1, Y + 2)), State::LastAck),
            // CLOSE in LISTEN or SYN-SENT deletes the TCB.
            State::Closed | State::Listen | State::SynSent => (None, State::Closed),
            // Queued until ESTABLISHED (§3.10.4).
            State::SynReceived => (None, State::SynReceived),
            // Already closing: no second FIN.
            other => (None, other),
        };
        let got: Option<(TcpFlags, u32, u32)> = match out.as_slice() {
            [] => None,
            [s] => Some((s.flags, s.seq, s.ack)),
            more => panic!("CLOSE in {state}: {more:#?}"),
        };
        assert_eq!(got, want_seg, "CLOSE in {state}");
        assert_eq!(t.state(), want_state, "CLOSE in {state}");
    }
}

#[test]
fn shutdown_in_every_state() {
    for state in State::ALL {
        let mut t = reach(state);
        let want = match state {
            State::Closed => Err(Error::Closed(CloseReason::Aborted)),
            _ => Ok(()),
        };
        assert_eq!(t.conn.shutdown(t.now), want, "shutdown in {state}");
    }
}

#[test]
fn abort_in_every_state() {
    for state in State::ALL {
        let mut t = reach(state);
        t.conn.abort();
        let out = t.out();
        // RFC 9293 §3.10.5: a RST only where the peer holds a connection
        // that is not already closing on its own.
        let want = match state {
            State::SynReceived | State::Established | State::CloseWait => Some(X + 1),
            State::FinWait1 | State::FinWait2 => Some(X + 2),
            _ => None,
        };
        let got = match out.as_slice() {
            [] => None,
            [s] => {
                assert_eq!((s.flags, s.ack, s.len()), (RST, 0, 0), "ABORT in {state}");
                Some(s.seq)
            }
            more => panic!("ABORT in {state}: {more:#?}"),
        };
        assert_eq!(got, want, "ABORT in {state}");
        assert_eq!(t.state(), State::Closed, "ABORT in {state}");
        assert_eq!(
            t.conn.close_reason(),
            Some(CloseReason::Aborted),
            "ABORT in {state}"
        );
        assert_eq!(t.conn.poll_timeout(), None, "ABORT in {state}");
        assert_eq!(t.conn.send_queue(), 0);
    }
}

#[test]
fn status_in_every_state() {
    for state in State::ALL {
        let t = reach(state);
        let st = t.conn.status();
        let (una, nxt, rcv) = match state {
            State::Closed => (X + 1, X + 1, Y + 1),
            State::Listen => (X, X, 0),
            State::SynSent => (X, X + 1, 0),
            State::SynReceived => (X, X + 1, Y + 1),
            State::FinWait1 | State::Closing | State::LastAck => {
                let (n, r) = nxt(state);
                (X + 1, n, r)
            }
            _ => {
                let (n, r) = nxt(state);
                (n, n, r)
            }
        };
        assert_eq!(st.state, state);
        assert_eq!(
            (st.snd_una.0, st.snd_nxt.0, st.rcv_nxt.0),
            (una, nxt, rcv),
            "STATUS in {state}"
        );
        assert_eq!(st.bytes_in_flight, nxt - una, "STATUS in {state}");
        assert_eq!(st.local_port, LOCAL);
    }
}

#[test]
fn deadlines_in_every_state() {
    let s = Duration::from_secs;
    for state in State::ALL {
        let t = reach(state);
        let want = match state {
            State::Closed | State::Listen | State::Established | State::CloseWait => None,
            // The SYN, SYN-ACK or FIN is timed by the initial 1 s RTO.
            State::SynSent
            | State::SynReceived
            | State::FinWait1
            | State::Closing
            | State::LastAck => Some(s(1)),
            // close() bounds FIN-WAIT-2; TIME-WAIT is 2·MSL.
            State::FinWait2 | State::TimeWait => Some(s(60)),
        };
        assert_eq!(next_deadline(&t), want, "deadline in {state}");
    }
}

#[test]
fn is_closed_only_in_closed() {
    for state in State::ALL {
        let t = reach(state);
        assert_eq!(t.conn.is_closed(), state == State::Closed, "{state}");
    }
}

#[test]
fn state_names_are_the_rfc_names() {
    let names: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "CLOSED",
            "LISTEN",
            "SYN-SENT",
            "SYN-RECEIVED",
            "ESTABLISHED",
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "CLOSE-WAIT",
            "CLOSING",
            "LAST-ACK",
            "TIME-WAIT"
        ]
    );
    let synchronized: Vec<State> = State::ALL
        .into_iter()
        .filter(|s| s.is_synchronized())
        .collect();
    assert_eq!(synchronized.len(), 7);
    assert!(!State::SynReceived.is_synchronized());
}

#[test]
fn closed_event_is_reported_once_with_readable() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).rst());
    let tail: Vec<Event> = t
        .events
        .iter()
        .copied()
        .filter(|e| !matches!(e, Event::StateChanged { .. }))
        .collect();
    assert_eq!(
        tail,
        [Event::Closed(CloseReason::Reset), Event::Readable],
        "readers waiting must wake"
    );
    t.events.clear();
    t.conn.abort();
    t.conn.close(t.now);
    t.drain_events();
    assert!(t.events.is_empty(), "{:?}", t.events);
}

/// An owner draining events after every call can lend one queue's storage
/// to the connection and get it back; no event is lost on the way and the
/// connection keeps no storage between calls.
#[test]
fn lent_event_storage_comes_back_with_every_event_delivered() {
    use std::collections::VecDeque;
    let mut t = Tcb::client(plain());
    let mut spare: VecDeque<Event> = VecDeque::with_capacity(16);
    t.conn.lend_event_storage(&mut spare);
    assert!(
        spare.capacity() == 0,
        "an idle connection takes the storage"
    );
    t.conn.abort();
    let mut got = Vec::new();
    while let Some(e) = t.conn.poll_event_into(&mut spare) {
        got.push(e);
    }
    assert!(
        got.contains(&Event::Closed(CloseReason::Aborted)),
        "{got:?}"
    );
    assert!(spare.capacity() >= 16, "the storage came back");
    assert!(spare.is_empty());
    // Lending again to a connection that holds nothing, with nothing to
    // report, keeps the events path empty.
    t.conn.lend_event_storage(&mut spare);
    assert_eq!(t.conn.poll_event_into(&mut spare), None);
    assert!(spare.capacity() >= 16);
}
