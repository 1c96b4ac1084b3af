//! Ladder diagrams and graphs (being written).
