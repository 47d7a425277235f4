use crate::cli::StatusArgs;

pub fn run(_args: StatusArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin status` is not implemented yet")
}
