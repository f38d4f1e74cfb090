//! In-memory containers of the state machine, built so that growth never copies what is
//! already stored (no multi-hundred-megabyte reallocation stalls in the middle of a batch).

mod arena;
mod chunked;
mod index;

pub use arena::{ByteArena, Span};
pub use chunked::ChunkedVec;
pub use index::IdIndex;
