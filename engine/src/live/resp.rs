//! A blocking, binary-safe RESP2 client for live servers on 127.0.0.1: one command, one reply.
//! Server error replies are values (`Reply::Error`); only transport and protocol faults are `Err`.
pub use crate::format::resp::Reply;
use crate::format::resp::{encode_command, ReplyReader};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// A connection to a server on 127.0.0.1.
#[derive(Debug)]
pub struct Client {
    writer: TcpStream,
    reader: ReplyReader<TcpStream>,
}

impl Client {
    /// Connects to `127.0.0.1:port` and settles on RESP2 (`HELLO 2` where the server knows it).
    pub fn connect(port: u16) -> io::Result<Client> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        // SAVE of a large dataset or module loading may take a while, never minutes.
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        let mut c = Client {
            writer: stream.try_clone()?,
            reader: ReplyReader::new(stream),
        };
        // Older servers answer HELLO with an error and speak RESP2 anyway.
        c.cmd(&[b"HELLO", b"2"])?;
        Ok(c)
    }

    /// Sends one command and returns its reply, server errors included as `Reply::Error`.
    pub fn cmd(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.writer.write_all(&encode_command(args))?;
        self.reader.read_reply()
    }

    /// Like [`Client::cmd`], but a server error becomes an `io::Error` naming the command.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        match self.cmd(args)? {
            Reply::Error(e) => Err(io::Error::other(format!("{} failed: {e}", describe(args)))),
            r => Ok(r),
        }
    }

    /// [`Client::call`] with text arguments.
    pub fn call_str(&mut self, args: &[&str]) -> io::Result<Reply> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call(&v)
    }

    /// [`Client::call`] with owned byte arguments, for commands built in a loop.
    pub fn call_vec(&mut self, args: &[Vec<u8>]) -> io::Result<Reply> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.call(&v)
    }
}

/// A short printable form of a command for error messages.
pub fn describe(args: &[&[u8]]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().take(4).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let t = String::from_utf8_lossy(a);
        if t.len() > 40 {
            s.push_str(&format!("{}…", &t.chars().take(40).collect::<String>()));
        } else {
            s.push_str(&format!("{t:?}"));
        }
    }
    if args.len() > 4 {
        s.push_str(" …");
    }
    s
}
