use crate::cli::InitArgs;

pub fn run(_args: InitArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`bulletin init` is not implemented yet")
}
