//! INFO: the server, clients, memory, persistence, stats, replication, cpu and keyspace sections
//! with Redis 7's field names (the persistence fields are the ones tools poll).
use super::event_loop::State;
use std::fmt::Write;

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
];

impl State {
    /// The text of `INFO [section ...]`.
    pub fn info_text(&mut self, args: &[&[u8]], connected: usize) -> String {
        let want: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
            .collect();
        let all = want.is_empty()
            || want
                .iter()
                .any(|w| matches!(w.as_str(), "all" | "everything" | "default"));
        let mut out = String::new();
        for s in SECTIONS {
            if !all && !want.iter().any(|w| w == s) {
                continue;
            }
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            self.section(&mut out, s, connected);
        }
        out
    }

    fn section(&mut self, o: &mut String, name: &str, connected: usize) {
        let now_ms = self.srv.now_ms();
        let st = self.srv.stats();
        let uptime = self.started.elapsed().as_secs();
        match name {
            "server" => {
                let _ = write!(
                    o,
                    "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\n\
                     redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\n\
                     os:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\n\
                     server_name:redis-persist\r\nredis_persist_version:{}\r\n\
                     process_id:{}\r\nprocess_supervised:no\r\nrun_id:{:040x}\r\n\
                     tcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\n\
                     uptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nexecutable:{}\r\n\
                     config_file:{}\r\nio_threads_active:0\r\n",
                    super::REDIS_VERSION,
                    std::env::consts::OS,
                    std::env::consts::ARCH,
                    env!("CARGO_PKG_VERSION"),
                    std::process::id(),
                    self.started.elapsed().as_nanos() ^ (std::process::id() as u128) << 64,
                    self.tcp_port,
                    now_ms * 1000,
                    uptime / 86400,
                    std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    self.cfg
                        .config_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
            }
            "clients" => {
                let blocked = self
                    .clients
                    .iter()
                    .flatten()
                    .filter(|c| c.blocked.is_some())
                    .count();
                let _ = write!(
                    o,
                    "# Clients\r\nconnected_clients:{connected}\r\ncluster_connections:0\r\n\
                     maxclients:10000\r\nclient_recent_max_input_buffer:0\r\n\
                     client_recent_max_output_buffer:0\r\nblocked_clients:{blocked}\r\n\
                     tracking_clients:0\r\nclients_in_timeout_table:{}\r\n",
                    self.deadlines.len()
                );
            }
            "memory" => {
                let _ = write!(
                    o,
                    "# Memory\r\nused_memory:0\r\nused_memory_human:0B\r\nmaxmemory:0\r\n\
                     maxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n\
                     mem_allocator:mimalloc\r\n"
                );
            }
            "persistence" => {
                let (bgsave_start, rewrite_start) = self.srv.jobs_started_ms();
                let running = |s: Option<i64>| s.map_or(-1, |t| (now_ms - t) / 1000);
                let cfg = self.srv.config();
                let ok = |b: bool| if b { "ok" } else { "err" };
                let _ = write!(
                    o,
                    "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\n\
                     current_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n\
                     current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n\
                     rdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\n\
                     rdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n\
                     rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\n\
                     rdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\n\
                     rdb_last_load_keys_loaded:0\r\naof_enabled:{}\r\n\
                     aof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\n\
                     aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\n\
                     aof_last_bgrewrite_status:{}\r\naof_last_rewrite_status:{}\r\n\
                     aof_rewrites:{}\r\naof_rewrites_consecutive_failures:0\r\n\
                     aof_last_write_status:{}\r\naof_last_cow_size:0\r\n\
                     module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                    st.dirty,
                    st.bgsave_in_progress as u8,
                    st.lastsave_ms / 1000,
                    ok(st.last_bgsave_ok),
                    self.counters.last_bgsave_secs,
                    running(bgsave_start),
                    self.counters.rdb_saves,
                    cfg.appendonly as u8,
                    st.rewrite_in_progress as u8,
                    st.rewrite_scheduled as u8,
                    self.counters.last_rewrite_secs,
                    running(rewrite_start),
                    ok(self.counters.last_bgrewrite_ok),
                    ok(self.counters.last_bgrewrite_ok),
                    self.counters.aof_rewrites,
                    ok(!st.aof_write_error),
                );
                if let Some((incr, pending)) = self.srv.aof_lengths() {
                    let _ = write!(
                        o,
                        "aof_current_size:{incr}\r\naof_base_size:0\r\n\
                         aof_pending_rewrite:{}\r\naof_buffer_length:{pending}\r\n\
                         aof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                        st.rewrite_scheduled as u8
                    );
                }
            }
            "stats" => {
                let _ = write!(
                    o,
                    "# Stats\r\ntotal_connections_received:{}\r\n\
                     total_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\n\
                     rejected_connections:{}\r\nexpired_keys:0\r\nevicted_keys:0\r\n\
                     keyspace_hits:0\r\nkeyspace_misses:0\r\npubsub_channels:0\r\n\
                     pubsub_patterns:0\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\n\
                     total_error_replies:0\r\n",
                    self.counters.connections, self.counters.commands, self.counters.rejected
                );
            }
            "replication" => {
                o.push_str(
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\
                     master_failover_state:no-failover\r\nmaster_repl_offset:0\r\n\
                     repl_backlog_active:0\r\n",
                );
            }
            "cpu" => o.push_str("# CPU\r\nused_cpu_sys:0.000000\r\nused_cpu_user:0.000000\r\n"),
            _ => {
                o.push_str("# Keyspace\r\n");
                for (db, keys, expires) in self.srv.keyspace().db_counts() {
                    let _ = write!(o, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
        }
    }
}
