use crate::cli::SendArgs;

pub fn run(_args: SendArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin send` is not implemented yet")
}
