use crate::cli::BuildArgs;

pub fn run(_args: BuildArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin build` is not implemented yet")
}
