//! `redis-persist-server [CONFIGFILE] [--name value ...]`: the reference engine served like
//! `redis-server` (see `redis_persist_engine::serve`).
use redis_persist_server::{parse_command_line, run, version_line, Invocation, TEST_MODE_ENV};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "Usage: redis-persist-server [/path/to/redis.conf] [options]
       redis-persist-server -v or --version
       redis-persist-server -h or --help

Options are redis.conf directives prefixed with --, e.g.
       redis-persist-server --port 7777 --appendonly yes --appendfsync always
       redis-persist-server /etc/redis/6379.conf --loglevel verbose

Test mode only (REDIS_PERSIST_TEST_MODE=1): --sabotage skip-fsync-always|rename-before-fsync|
       drop-rewrite-writes|ack-before-append";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_command_line(&args) {
        Ok(Invocation::Version) => {
            println!("{}", version_line());
            return;
        }
        Ok(Invocation::Help) => {
            eprintln!("{USAGE}");
            return;
        }
        Ok(Invocation::Serve(cfg)) => cfg,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if !cfg.sabotage.is_empty() && std::env::var(TEST_MODE_ENV).as_deref() != Ok("1") {
        eprintln!(
            "--sabotage is for tests only and needs the environment variable {TEST_MODE_ENV}=1"
        );
        std::process::exit(1);
    }
    std::process::exit(run(*cfg));
}
