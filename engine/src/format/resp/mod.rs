//! RESP, the Redis protocol, in one place: commands as clients send them and the AOF stores them
//! (with its `#` annotations), and replies as clients read them. Pure: bytes in, values out.
pub mod command;
pub mod reply;
pub mod stream;

pub use command::{
    encode_command, timestamp, write_command, write_timestamp, Strictness, LINE_MAX,
};
pub use reply::{parse_reply, Reply, ReplyReader};
pub use stream::{CommandReader, Next};
