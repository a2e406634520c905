fn main() -> std::process::ExitCode {
    returns_dock::cli::main()
}
