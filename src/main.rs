fn main() {
    std::process::exit(bulletin::run::run(std::env::args_os()));
}
