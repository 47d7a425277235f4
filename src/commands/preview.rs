use crate::cli::PreviewArgs;
use crate::preview::{self, Options};
use crate::run::exit;

pub fn run(args: PreviewArgs) -> anyhow::Result<i32> {
    let mut opts = Options::new(args.issue.issue);
    opts.target.template = args.issue.template;
    opts.target.list = args.list;
    opts.target.filter = args
        .filter
        .as_deref()
        .map(crate::list::Filter::parse)
        .transpose()?;
    opts.target.as_email = args.as_email;
    opts.host = preview::parse_host(&args.host)?;
    opts.port = args.port;
    opts.open = !args.no_open;
    preview::serve(opts)?;
    Ok(exit::OK)
}
