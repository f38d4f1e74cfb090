//! `HugePageAlloc`: mimalloc for small blocks, the system allocator for medium ones; blocks of
//! 2 MiB and more get their own anonymous mapping, aligned to 2 MiB and marked `MADV_HUGEPAGE`.
//!
//! Why: the ledger keeps every record and its idempotency index in memory — hundreds of
//! megabytes touched at random. With 4 KiB pages every new page is a fault and every lookup a
//! likely TLB miss; under virtualisation (nested page tables) both are expensive. Transparent
//! huge pages take one fault per 2 MiB and cover the index with few TLB entries. Mappings are
//! zero-filled by the kernel, so `alloc_zeroed` needs no memset. Where THP is unavailable the
//! advice is ignored and the mapping behaves like any other.
//!
//! Binaries opt in with `#[global_allocator] static ALLOC: HugePageAlloc = HugePageAlloc;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

use mimalloc::MiMalloc as Small;

const HUGE_PAGE: usize = 2 << 20;

pub struct HugePageAlloc;

fn is_huge(layout: Layout) -> bool {
    layout.size() >= HUGE_PAGE && layout.align() <= HUGE_PAGE
}

fn mapped_len(size: usize) -> usize {
    size.next_multiple_of(HUGE_PAGE)
}

/// Maps `size` bytes (rounded up to 2 MiB) at a 2 MiB boundary; null on failure.
fn map_huge(size: usize) -> *mut u8 {
    let len = mapped_len(size);
    // SAFETY: anonymous private mapping; we only unmap ranges inside what mmap returned.
    unsafe {
        let raw = libc::mmap(
            ptr::null_mut(),
            len + HUGE_PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if raw == libc::MAP_FAILED {
            return ptr::null_mut();
        }
        let start = raw as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        if aligned > start {
            libc::munmap(raw, aligned - start);
        }
        let end = start + len + HUGE_PAGE;
        if end > aligned + len {
            libc::munmap((aligned + len) as *mut libc::c_void, end - (aligned + len));
        }
        libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        aligned as *mut u8
    }
}

/// Where a block of a layout comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// mimalloc: below `SMALL_MAX`.
    Small,
    /// glibc: between the two.
    Medium,
    /// A mapping of its own: 2 MiB and more.
    Huge,
}

/// The largest block mimalloc serves. The payment path's allocations (requests, rows, JSON)
/// are small and many: mimalloc's thread-local free lists made ~8% of the server's samples in
/// glibc's `malloc` almost vanish. The ledger's batch buffers (up to ~1 MiB) stay with glibc,
/// which reuses them; under mimalloc the engine bench ran ~10–20% slower.
const SMALL_MAX: usize = 64 << 10;

fn class(layout: Layout) -> Class {
    if is_huge(layout) {
        Class::Huge
    } else if layout.size() < SMALL_MAX {
        Class::Small
    } else {
        Class::Medium
    }
}

// SAFETY: huge blocks are whole mappings returned by `map_huge` and released with munmap of the
// same length; every other block is freed by the allocator its layout's class names, which is
// the one that allocated it (a block's class follows from its layout alone).
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class(layout) {
            Class::Small => Small.alloc(layout),
            Class::Medium => System.alloc(layout),
            Class::Huge => map_huge(layout.size()),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match class(layout) {
            Class::Small => Small.alloc_zeroed(layout),
            Class::Medium => System.alloc_zeroed(layout),
            Class::Huge => map_huge(layout.size()), // fresh mappings read as zeros
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class(layout) {
            Class::Small => Small.dealloc(ptr, layout),
            Class::Medium => System.dealloc(ptr, layout),
            Class::Huge => {
                libc::munmap(ptr.cast(), mapped_len(layout.size()));
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        match (class(layout), class(new_layout)) {
            (Class::Small, Class::Small) => return Small.realloc(ptr, layout, new_size),
            (Class::Medium, Class::Medium) => return System.realloc(ptr, layout, new_size),
            (Class::Huge, Class::Huge) if mapped_len(layout.size()) == mapped_len(new_size) => {
                return ptr; // still fits in the same mapping
            }
            _ => {}
        }
        let fresh = self.alloc(new_layout);
        if !fresh.is_null() {
            ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_every_size_round_trip_through_realloc() {
        let alloc = HugePageAlloc;
        let cases = [
            (64, 4096),
            (64, 100 << 10),
            (100 << 10, 32),
            (1 << 20, 3 << 20),
            (3 << 20, 8 << 20),
            (4 << 20, 5 << 20),
            (8 << 20, 64),
            (2 << 20, 2 << 20),
        ];
        for (size, grow_to) in cases {
            let layout = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let ptr = alloc.alloc_zeroed(layout);
                assert!(!ptr.is_null());
                assert_eq!(*ptr.add(size - 1), 0);
                if size >= HUGE_PAGE {
                    assert_eq!(ptr as usize % HUGE_PAGE, 0);
                }
                ptr.write_bytes(0xAB, size);
                let grown = alloc.realloc(ptr, layout, grow_to);
                assert!(!grown.is_null());
                assert_eq!(*grown.add(size.min(grow_to) - 1), 0xAB);
                alloc.dealloc(grown, Layout::from_size_align(grow_to, 8).unwrap());
            }
        }
    }
}
