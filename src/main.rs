// Imports hand strings from a reading thread to a writing one; mimalloc frees them across
// threads without the lock contention of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    returns_dock::cli::main()
}
