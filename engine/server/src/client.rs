//! One connected client: its socket, query and reply buffers, session (database, protocol,
//! name), transaction state (queued commands, watched keys) and blocking state.
use super::proto::Shape;
use redis_persist_engine::keyspace::Session;
use std::io::{self, Read, Write};
use std::time::Instant;

/// A TCP or Unix-socket connection.
#[derive(Debug)]
pub enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl mio::event::Source for Stream {
    fn register(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
        }
    }
}

/// A client waiting in a blocking command.
#[derive(Debug, Clone)]
pub struct Block {
    /// The command to run again when a key it waits on changes (XREAD's `$` made concrete).
    pub argv: Vec<Vec<u8>>,
    /// Its lower-case name.
    pub name: String,
    /// The database it runs in.
    pub db: u64,
    /// The keys it waits on.
    pub keys: Vec<Vec<u8>>,
    /// When it gives up (`None`: never).
    pub deadline: Option<Instant>,
    /// How its reply is drawn.
    pub shape: Shape,
}

/// A connected client.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    /// Its index in the server's client table (its poll token).
    pub slot: usize,
    pub stream: Stream,
    /// Peer and local addresses as CLIENT LIST shows them.
    pub addr: String,
    pub laddr: String,
    /// Connected over loopback or the Unix socket (for `enable-debug-command local`).
    pub local: bool,
    /// Bytes read and not yet parsed start at `qpos`.
    pub qbuf: Vec<u8>,
    pub qpos: usize,
    /// Reply bytes not yet written start at `out_pos`.
    pub out: Vec<u8>,
    pub out_pos: usize,
    pub session: Session,
    /// 2 or 3 (HELLO).
    pub resp: u8,
    pub name: Vec<u8>,
    pub created: Instant,
    pub last_interaction: Instant,
    pub last_cmd: String,
    /// Commands queued since MULTI.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A queued command was refused: EXEC answers EXECABORT.
    pub multi_error: bool,
    /// Keys under WATCH, by database.
    pub watched: Vec<(u64, Vec<u8>)>,
    /// A watched key changed: EXEC fails.
    pub dirty_cas: bool,
    pub blocked: Option<Block>,
    /// Close once the replies so far are written (QUIT, a protocol error).
    pub close_after_reply: bool,
    /// The peer closed or the socket failed: free it.
    pub dead: bool,
}

impl Client {
    /// A new client on `stream`.
    pub fn new(id: u64, slot: usize, stream: Stream, addr: String, laddr: String) -> Client {
        let now = Instant::now();
        let local = matches!(stream, Stream::Unix(_))
            || addr.starts_with("127.")
            || addr.starts_with("[::1]");
        Client {
            id,
            slot,
            stream,
            addr,
            laddr,
            local,
            qbuf: Vec::new(),
            qpos: 0,
            out: Vec::new(),
            out_pos: 0,
            session: Session::new(),
            resp: 2,
            name: Vec::new(),
            created: now,
            last_interaction: now,
            last_cmd: "NULL".into(),
            multi: None,
            multi_error: false,
            watched: Vec::new(),
            dirty_cas: false,
            blocked: None,
            close_after_reply: false,
            dead: false,
        }
    }

    /// Reads what the socket has; `false` when the peer closed or the socket failed.
    pub fn read_available(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.qbuf.extend_from_slice(&chunk[..n]);
                    self.last_interaction = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }

    /// Writes pending replies until done or the socket is full; `false` when the socket failed.
    pub fn flush(&mut self) -> bool {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return false,
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        self.out.clear();
        self.out_pos = 0;
        true
    }

    /// Whether replies wait to be written.
    pub fn has_output(&self) -> bool {
        self.out_pos < self.out.len()
    }

    /// CLIENT LIST's line for this client (without the newline).
    pub fn list_line(&self, cmd_now: Option<&str>) -> String {
        let now = Instant::now();
        let mut flags = String::new();
        if self.multi.is_some() {
            flags.push('x');
        }
        if self.blocked.is_some() {
            flags.push('b');
        }
        if self.dirty_cas {
            flags.push('d');
        }
        if self.close_after_reply {
            flags.push('c');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={flags} db={} sub=0 \
             psub=0 ssub=0 multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 \
             rbp=0 obl={} oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&self.name),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_interaction).as_secs(),
            self.session.db,
            self.multi.as_ref().map_or(-1, |q| q.len() as i64),
            self.qbuf.len() - self.qpos,
            self.out.len() - self.out_pos,
            cmd_now.unwrap_or(&self.last_cmd),
            self.resp
        )
    }
}
