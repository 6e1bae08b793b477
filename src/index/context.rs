//! Every ERROR raised while an index is in use names it, as `CONTEXT: quantvec index "name"`:
//! those of the index's own checks and of PostgreSQL underneath (a block that cannot be read,
//! a cancel), wherever they come from.
//!
//! An error raised in Rust is reported by pgrx at the callback's boundary, after the stack
//! has unwound: the context entry must outlive the frame that pushed it, so entries live in
//! per-backend static slots (one per level of nesting, found by walking the context stack),
//! and an entry left on the stack by an error is dropped by PostgreSQL's error recovery,
//! which resets the stack.

use std::cell::RefCell;
use std::ffi::{c_char, c_void};

use pgrx::pg_sys;
use pgrx::prelude::*;

struct Slot {
    entry: pg_sys::ErrorContextCallback,
    name: [c_char; pg_sys::NAMEDATALEN as usize],
}

/// Levels of nesting named (an index operation within another is rare; deeper ones go
/// unnamed).
const DEPTH: usize = 4;

thread_local! {
    // Static storage: entries keep their addresses while they are on the context stack.
    static SLOTS: RefCell<[Slot; DEPTH]> = const {
        RefCell::new(
            [const {
                Slot {
                    entry: pg_sys::ErrorContextCallback { previous: std::ptr::null_mut(), callback: None, arg: std::ptr::null_mut() },
                    name: [0; pg_sys::NAMEDATALEN as usize],
                }
            }; DEPTH],
        )
    };
}

unsafe extern "C" {
    /// elog.c's `errcontext_msg`, which pgrx does not bind (it is variadic).
    fn errcontext_msg(fmt: *const c_char, ...) -> std::ffi::c_int;
}

#[pg_guard]
unsafe extern "C-unwind" fn name_the_index(name: *mut c_void) {
    // SAFETY: called by errfinish, while an error is being built, with the slot's
    // NUL-terminated name as its argument; the format takes one string.
    unsafe { errcontext_msg(c"quantvec index \"%s\"".as_ptr(), name.cast::<c_char>()) };
}

/// Names `index` in errors until dropped.
pub struct IndexErrors(*mut pg_sys::ErrorContextCallback);

impl IndexErrors {
    pub fn name(index: pg_sys::Relation) -> IndexErrors {
        SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            // SAFETY: the context stack is this backend's (one thread), and its entries
            // are live while on it; ours are in static storage. An open relation's pg_class
            // row holds its NUL-terminated name.
            unsafe {
                let ours = |entry: *mut pg_sys::ErrorContextCallback| slots.iter().any(|s| std::ptr::eq(&s.entry, entry));
                let mut depth = 0;
                let mut at = pg_sys::error_context_stack;
                while !at.is_null() {
                    depth += usize::from(ours(at));
                    at = (*at).previous;
                }
                let Some(slot) = slots.get_mut(depth) else { return IndexErrors(std::ptr::null_mut()) };
                slot.name = (*(*index).rd_rel).relname.data;
                slot.entry =
                    pg_sys::ErrorContextCallback { previous: pg_sys::error_context_stack, callback: Some(name_the_index), arg: (&raw mut slot.name).cast() };
                pg_sys::error_context_stack = &raw mut slot.entry;
                IndexErrors(&raw mut slot.entry)
            }
        })
    }
}

impl Drop for IndexErrors {
    fn drop(&mut self) {
        // An error unwinding past us is reported at the callback's boundary, later: the
        // entry stays for it, and error recovery resets the stack.
        if std::thread::panicking() {
            return;
        }
        // SAFETY: our entry, pushed by `name`; popped only if it is still on top.
        unsafe {
            if !self.0.is_null() && pg_sys::error_context_stack == self.0 {
                pg_sys::error_context_stack = (*self.0).previous;
            }
        }
    }
}
