//! A deterministic network simulator (being built).
