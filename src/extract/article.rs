//! PLACEHOLDER: the article extractor is being written (issue 5).

use std::io::Write;

/// Runs `herald extract`: one result per input, in order (`--json`: one object per line).
pub async fn run_cli(
    inputs: &[String],
    url: Option<&str>,
    json: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), String> {
    let _ = (inputs, url, json, out);
    Err("the article extractor is not built yet".into())
}
