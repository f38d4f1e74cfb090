//! Storage fault injection for tests: make the next N writes, syncs or segment creations fail
//! the way a full or failing disk does. Production code paths consult it before each storage
//! operation; by default nothing is armed and each check is one atomic load.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Default)]
pub struct Faults {
    /// Next writes fail with ENOSPC after writing half of their bytes (a torn write).
    pub fail_writes: AtomicU32,
    /// Next fdatasyncs fail with EIO.
    pub fail_syncs: AtomicU32,
    /// Next segment creations fail with ENOSPC.
    pub fail_creates: AtomicU32,
}

impl Faults {
    pub(crate) fn write_fails(&self) -> bool {
        take(&self.fail_writes)
    }

    pub(crate) fn sync_fails(&self) -> bool {
        take(&self.fail_syncs)
    }

    pub(crate) fn create_fails(&self) -> bool {
        take(&self.fail_creates)
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

pub(crate) fn no_space() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOSPC)
}

pub(crate) fn io_error() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}
