//! `synack trace` (being written).
use clap::Args;

/// Arguments of `synack trace`.
#[derive(Args)]
pub struct TraceArgs {}

pub fn run(_args: TraceArgs) -> Result<(), String> {
    Err("trace: not built yet".into())
}
