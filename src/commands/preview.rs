use crate::cli::PreviewArgs;

pub fn run(_args: PreviewArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin preview` is not implemented yet")
}
