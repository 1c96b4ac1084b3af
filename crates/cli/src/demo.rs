//! `synack demo` (being written).
use clap::Args;

/// Arguments of `synack demo`.
#[derive(Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> Result<(), String> {
    Err("demo: not built yet".into())
}
