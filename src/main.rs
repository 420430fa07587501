fn main() -> std::process::ExitCode {
    mcload::cli::main_with(std::env::args_os())
}
