use crate::cli::CheckArgs;

pub fn run(_args: CheckArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin check` is not implemented yet")
}
