//! Scenarios on a simulated link (being written).
