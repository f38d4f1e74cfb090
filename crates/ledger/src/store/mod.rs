//! In-memory containers of the state machine, built so that growth never copies what is
//! already stored (no multi-hundred-megabyte reallocation stalls in the middle of a batch).

mod arena;
mod chunked;
mod index;

pub use arena::{ByteArena, Span};
pub use chunked::ChunkedVec;
pub use index::IdIndex;

/// Hints the CPU to bring `value`'s cache line in; a no-op where unsupported. Lookups on large
/// arrays are bound by cache misses, and batches know their next keys ahead of time.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and changes no program state.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
