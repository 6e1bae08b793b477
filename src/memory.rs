//! Memory that bulk work frees as it goes: a context reset after each row, so that the
//! detoasted copies and other per-row allocations of a build, an `INSERT ... SELECT` or a
//! check do not pile up in the statement's context until it ends.

use pgrx::pg_sys;

/// A memory context of its own, a child of the context current when it was made, deleted
/// on drop.
pub struct RowContext(pg_sys::MemoryContext);

impl RowContext {
    pub fn new(name: &'static std::ffi::CStr) -> RowContext {
        // SAFETY: creates a child of the current context (which outlives this value, as
        // it was current when it was made); the name is static, as Postgres requires.
        RowContext(unsafe {
            pg_sys::AllocSetContextCreateExtended(
                pg_sys::CurrentMemoryContext,
                name.as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            )
        })
    }

    /// Runs `work` with this context current, then frees everything it allocated there:
    /// nothing `work` returns may point into Postgres memory it allocated.
    pub fn run<R>(&self, work: impl FnOnce() -> R) -> R {
        /// Makes the previous context current again, also when `work` raises an ERROR.
        struct Restore(pg_sys::MemoryContext);
        impl Drop for Restore {
            fn drop(&mut self) {
                // SAFETY: the context that was current before `run`, still alive.
                unsafe { pg_sys::MemoryContextSwitchTo(self.0) };
            }
        }
        // SAFETY: switching to a live context of ours, as MemoryContextSwitchTo does (the
        // backend's one thread owns CurrentMemoryContext).
        let restore = Restore(unsafe { pg_sys::MemoryContextSwitchTo(self.0) });
        let result = work();
        drop(restore);
        // SAFETY: the context is ours and no longer current; `work` has returned and left
        // nothing that points into it.
        unsafe { pg_sys::MemoryContextReset(self.0) };
        result
    }
}

impl Drop for RowContext {
    fn drop(&mut self) {
        // SAFETY: ours, not current (`run` restores the previous one), deleted once.
        unsafe { pg_sys::MemoryContextDelete(self.0) };
    }
}
