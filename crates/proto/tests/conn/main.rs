//! Segment scripts and back-to-back simulations of one connection.
//! Each file covers one part of RFC 9293 §3.10 (or an extension).

mod harness;

mod cubic;
mod flow_nagle_delack;
mod flow_persist;
mod flow_window;
mod loss_congestion;
mod loss_rto;
mod oow_acks;
mod options_sack;
mod options_timestamps;
mod options_wscale;
mod props;
mod recovery_ack_fast_path;
mod recovery_props;
mod recovery_prr;
mod recovery_rack;
mod recovery_sack;
mod recovery_tlp;
mod recovery_undo;
mod rst_and_challenge;
mod states_closed_listen;
mod states_closing;
mod states_established;
mod states_setup;
mod states_syn;
mod states_trace;
mod states_user_calls;
mod textbook;
mod transfer;
mod transfer_keepalive;
mod transfer_reassembly;
mod transfer_segmentation;
mod wrap;
