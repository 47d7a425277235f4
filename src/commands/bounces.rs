use crate::cli::BouncesArgs;

pub fn run(_args: BouncesArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin bounces` is not implemented yet")
}
