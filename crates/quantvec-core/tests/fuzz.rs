//! Fuzzing of everything in the core that reads untrusted input: the text parsers and
//! binary receive functions of both types, pgvector's values, the stored-payload decoders, the index's page
//! decoders and block/vector accessors, the search over corrupted pages, and `.npy` files.
//!
//! No fuzz engine: a seeded generator of random bytes, grammar-aware strings and mutations
//! of valid encodings, so that it runs in every `cargo test` and a failure reproduces from
//! the seed it prints. Every case runs under `catch_unwind`; a panic, or a property that
//! does not hold (round trips, re-encoding, agreement with an oracle), fails the target
//! with the offending input, hex-escaped.
//!
//! - `QUANTVEC_FUZZ_CASES=N`: N cases per target (default: a few seconds for the whole file
//!   in a debug build).
//! - `QUANTVEC_FUZZ_SEED=S` (decimal or 0x hex): another seed.
//!
//! Run with `--nocapture` to see each target's counts.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use quantvec_core::bits::{self, BitRef, BitVector};
use quantvec_core::floats::{self, Query};
use quantvec_core::int4::{self, Int4Ref, Int4Vector};
use quantvec_core::int8::{self, Int8Ref, Int8Vector, Params};
use quantvec_core::ivf::memory::MemoryIndex;
use quantvec_core::ivf::meta::{self, ListEntry, Meta};
use quantvec_core::ivf::recall::Calibration;
use quantvec_core::ivf::search::{Search, SearchOptions};
use quantvec_core::ivf::{block, vector_tid, BuildOptions, EncodedRow, IndexQuery, ItemPointer, Metric, Quantizer, Scorer};
use quantvec_core::kernels::{self, Isa, Kernels};
use quantvec_core::quality::Distance;
use quantvec_core::{npy, pgvector, Error, ErrorKind};

// ---------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------

const DEFAULT_SEED: u64 = 0x5156_4655_5a5a_0001;

/// Failing inputs reported per target (the count covers all of them).
const REPORTED_FAILURES: usize = 5;

/// Inputs are shown up to this many bytes or characters; the seed reproduces the rest.
const SHOWN: usize = 2048;

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let digits = text.trim().replace('_', "");
    let parsed = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

fn seed() -> u64 {
    env_number("QUANTVEC_FUZZ_SEED").unwrap_or(DEFAULT_SEED)
}

/// An independent stream per target (and per fixture), so that targets reproduce alone
/// and adding one does not change the others' inputs.
fn rng_for(name: &str) -> SmallRng {
    let fnv = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    SmallRng::seed_from_u64(seed() ^ fnv)
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// While a case runs, a panic is recorded for the report instead of printed, so that a
/// target prints a few lines per failing input rather than one backtrace per case.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                CAUGHT.with(|c| *c.borrow_mut() = info.to_string());
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `cases` inputs from `generate` through `check`, which returns whether the input
/// was accepted (first label) or refused (second label) and panics when a property fails.
fn fuzz<T>(
    name: &str,
    default_cases: usize,
    labels: [&str; 2],
    mut generate: impl FnMut(&mut SmallRng) -> T,
    check: impl Fn(&T) -> bool,
    show: impl Fn(&T) -> String,
) {
    quiet_panics();
    let cases = env_number("QUANTVEC_FUZZ_CASES").map_or(default_cases, |n| n as usize);
    let mut rng = rng_for(name);
    let (mut accepted, mut refused, mut failed) = (0usize, 0usize, 0usize);
    let mut report = String::new();
    let start = Instant::now();
    for case in 0..cases {
        let input = generate(&mut rng);
        CATCHING.with(|c| c.set(true));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(&input)));
        CATCHING.with(|c| c.set(false));
        match outcome {
            Ok(true) => accepted += 1,
            Ok(false) => refused += 1,
            Err(_) => {
                failed += 1;
                if failed <= REPORTED_FAILURES {
                    let message = CAUGHT.with(|c| c.borrow().clone());
                    let _ = write!(report, "\n  case {case}: {message}\n    input: {}", show(&input));
                }
            }
        }
    }
    let seed = seed();
    println!(
        "fuzz {name:<22} {cases:>9} cases: {accepted:>9} {}, {refused:>9} {}, {failed} failed, {:.2?} (QUANTVEC_FUZZ_SEED={seed:#x})",
        labels[0],
        labels[1],
        start.elapsed()
    );
    assert!(failed == 0, "fuzz {name}: {failed} of {cases} cases failed (QUANTVEC_FUZZ_SEED={seed:#x}, QUANTVEC_FUZZ_CASES={cases}):{report}");
}

const DECODED: [&str; 2] = ["accepted", "rejected"];

/// Every byte as `\xNN`, so that any input pastes into a `b"..."` literal.
fn hex(bytes: &[u8]) -> String {
    let mut out = format!("{} bytes b\"", bytes.len());
    for b in bytes.iter().take(SHOWN) {
        let _ = write!(out, "\\x{b:02x}");
    }
    out.push('"');
    if bytes.len() > SHOWN {
        let _ = write!(out, " (first {SHOWN} shown)");
    }
    out
}

fn text(s: &str) -> String {
    let shown: String = s.chars().take(SHOWN).collect();
    let more = if shown.len() < s.len() { format!(" (first {SHOWN} characters of {} bytes shown)", s.len()) } else { String::new() };
    format!("{shown:?}{more}")
}

fn expect_kind(e: &Error, kinds: &[ErrorKind]) {
    assert!(kinds.contains(&e.kind), "error of kind {:?} (expected one of {kinds:?}): {}", e.kind, e.message);
    assert!(!e.message.is_empty(), "error without a message");
}

fn k() -> &'static Kernels {
    kernels::active()
}

fn scalar() -> &'static Kernels {
    kernels::table(Isa::Scalar).expect("scalar kernels")
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A dimension count: mostly small, sometimes large, now and then at the limit (either
/// side) or 0.
fn dims(rng: &mut SmallRng, max: usize) -> usize {
    match rng.random_range(0..1000) {
        0..20 => 0,
        20..420 => rng.random_range(1..=8),
        420..800 => rng.random_range(9..=64),
        800..975 => rng.random_range(65..=512),
        975..995 => rng.random_range(513..=2048.min(max)),
        _ => rng.random_range(max - 1..=max + 1),
    }
}

fn random_bytes(rng: &mut SmallRng) -> Vec<u8> {
    let len = match rng.random_range(0..10) {
        0..5 => rng.random_range(0..=24),
        5..9 => rng.random_range(0..=300),
        _ => rng.random_range(0..=4000),
    };
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

fn random_len_bytes(rng: &mut SmallRng, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// Values that sit on the boundaries of length, count and dimension fields.
const INTERESTING: [u64; 22] = [
    0,
    1,
    2,
    7,
    8,
    9,
    127,
    128,
    255,
    256,
    16_000,
    16_001,
    64_000,
    64_001,
    65_535,
    65_536,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX as u64,
    u64::MAX,
];

/// A position biased to the front, where headers (the fields decoders trust) are.
fn position(rng: &mut SmallRng, end: usize) -> usize {
    if end == 0 {
        0
    } else if rng.random_bool(0.5) {
        rng.random_range(0..end.min(16))
    } else {
        rng.random_range(0..end)
    }
}

/// Overwrites 1, 2, 4 or 8 bytes with a boundary value, in either byte order.
fn overwrite_int(rng: &mut SmallRng, bytes: &mut [u8]) {
    let width = *pick(rng, &[1usize, 2, 4, 8]);
    if bytes.len() < width {
        return;
    }
    let value = if rng.random_bool(0.8) { *pick(rng, &INTERESTING) } else { rng.random() };
    let encoded = if rng.random_bool(0.5) { value.to_le_bytes() } else { value.to_be_bytes() };
    let at = position(rng, bytes.len() - width + 1);
    let from = if rng.random_bool(0.5) { 0 } else { 8 - width };
    bytes[at..at + width].copy_from_slice(&encoded[from..from + width]);
}

/// Edits that keep the length: what a corrupted page looks like to a reader that trusts
/// its item lengths.
fn mutate_in_place(rng: &mut SmallRng, bytes: &mut [u8]) {
    let len = bytes.len();
    if len == 0 {
        return;
    }
    match rng.random_range(0..5) {
        0 => {
            let at = position(rng, len);
            bytes[at] ^= 1 << rng.random_range(0..8);
        }
        1 => {
            let value = *pick(rng, &[0u8, 1, 0x7f, 0x80, 0xff]);
            let at = rng.random_range(0..len);
            bytes[at] = value;
        }
        2 => {
            let at = rng.random_range(0..len);
            bytes[at] = rng.random();
        }
        3 => overwrite_int(rng, bytes),
        _ => {
            let from = rng.random_range(0..len);
            let n = rng.random_range(0..=(len - from).min(32));
            let to = rng.random_range(0..=len - n);
            bytes.copy_within(from..from + n, to);
        }
    }
}

/// One to four edits of a valid encoding: flips, boundary values, inserted and deleted
/// bytes, truncation, extension, and splices with another valid encoding.
fn mutate(rng: &mut SmallRng, bytes: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len();
        match rng.random_range(0..8) {
            0..2 => mutate_in_place(rng, bytes),
            2 => {
                let at = position(rng, len + 1);
                bytes.insert(at, rng.random());
            }
            3 if len > 0 => {
                let at = position(rng, len);
                bytes.remove(at);
            }
            4 => bytes.truncate(rng.random_range(0..=len)),
            5 => {
                for _ in 0..rng.random_range(1..=16) {
                    bytes.push(rng.random());
                }
            }
            6 => {
                bytes.truncate(rng.random_range(0..=len));
                bytes.extend_from_slice(&donor[rng.random_range(0..=donor.len())..]);
            }
            _ if len > 0 => {
                let from = rng.random_range(0..len);
                let piece = bytes[from..(from + rng.random_range(1..=32)).min(len)].to_vec();
                let at = rng.random_range(0..=len);
                bytes.splice(at..at, piece);
            }
            _ => {}
        }
    }
}

/// A binary input: random, valid, or a mutated valid encoding (spliced with another).
fn binary(rng: &mut SmallRng, valid: &mut dyn FnMut(&mut SmallRng) -> Vec<u8>) -> Vec<u8> {
    match rng.random_range(0..100) {
        0..15 => random_bytes(rng),
        15..30 => valid(rng),
        _ => {
            let mut bytes = valid(rng);
            let donor = valid(rng);
            mutate(rng, &mut bytes, &donor);
            bytes
        }
    }
}

fn random_scale(rng: &mut SmallRng) -> f32 {
    match rng.random_range(0..8) {
        0 => 1.0,
        1 => f32::MIN_POSITIVE,
        2 => f32::from_bits(1),
        3 => f32::MAX,
        4..6 => rng.random_range(1e-4f32..1.0),
        _ => loop {
            let scale = f32::from_bits(rng.random::<u32>() & 0x7fff_ffff);
            if scale.is_finite() && scale > 0.0 {
                break scale;
            }
        },
    }
}

fn random_floats(rng: &mut SmallRng, n: usize) -> Vec<f32> {
    match rng.random_range(0..10) {
        0 => vec![0.0; n],
        1 => vec![rng.random_range(-3.0f32..3.0); n],
        2 => (0..n).map(|_| rng.random_range(-1e30f32..1e30)).collect(),
        3 => (0..n).map(|_| f32::from_bits(rng.random_range(0..0x0080_0000)) * if rng.random_bool(0.5) { 1.0 } else { -1.0 }).collect(),
        4 => (0..n).map(|_| *pick(rng, &[f32::MAX, -f32::MAX, 0.0, -0.0, 1.0])).collect(),
        _ => (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
    }
}

fn random_int8(rng: &mut SmallRng, n: usize) -> Int8Vector {
    if rng.random_bool(0.5) {
        Int8Vector::quantize_minmax(&random_floats(rng, n)).expect("finite floats quantize")
    } else {
        let params = Params { scale: random_scale(rng), zero_point: rng.random() };
        Int8Vector::new(params, (0..n).map(|_| rng.random()).collect()).expect("valid dimensions")
    }
}

fn any_int4(rng: &mut SmallRng) -> Int4Vector {
    let n = dims(rng, int4::MAX_DIMS).clamp(1, int4::MAX_DIMS);
    if rng.random_bool(0.5) {
        Int4Vector::quantize_minmax(&random_floats(rng, n)).expect("finite floats quantize")
    } else {
        let params = int4::Params::new(random_scale(rng), rng.random_range(0..=15)).expect("valid parameters");
        Int4Vector::from_codes(&(0..n).map(|_| rng.random_range(0..=15)).collect::<Vec<i64>>(), params).expect("valid codes")
    }
}

fn any_int8(rng: &mut SmallRng) -> Int8Vector {
    let n = dims(rng, int8::MAX_DIMS).clamp(1, int8::MAX_DIMS);
    random_int8(rng, n)
}

fn random_bits(rng: &mut SmallRng, n: usize) -> BitVector {
    let p = *pick(rng, &[0.0, 0.5, 0.5, 1.0, 0.1]);
    let bools: Vec<bool> = (0..n).map(|_| rng.random_bool(p)).collect();
    BitVector::from_bools(bools.into_iter()).expect("valid dimensions")
}

fn any_bits(rng: &mut SmallRng) -> BitVector {
    let n = dims(rng, bits::MAX_DIMS).clamp(1, bits::MAX_DIMS);
    random_bits(rng, n)
}

/// Numbers, and things parsers might take for one.
const SPECIAL_NUMBERS: &[&str] = &[
    "nan",
    "NaN",
    "-nan",
    "+nan",
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "-Infinity",
    "INF",
    "iNfInItY",
    "1e39",
    "-1e39",
    "3.4028235e38",
    "3.4028236e38",
    "-3.4028235e38",
    "1e-45",
    "1e-46",
    "7e-46",
    "1.4e-45",
    "1.17549435e-38",
    "-0",
    "0",
    "+0",
    "-0.0",
    ".5",
    "5.",
    "-.5",
    ".",
    "-",
    "+",
    "e",
    "1e",
    "1e+",
    "e5",
    "0x10",
    "1_0",
    "١",
    "",
    " ",
    "--1",
    "+-1",
    "1.2.3",
    "1e5e5",
    "1,5",
    "0.000000000000000000000000000000000000000000000001",
    "00000000000000000000001",
    "1e2147483648",
    "1e-2147483649",
    "\u{0}",
];

const INTEGERS: &[&str] = &[
    "127",
    "-128",
    "128",
    "-129",
    "255",
    "256",
    "-0",
    "+1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999",
];

fn digits(rng: &mut SmallRng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

fn number(rng: &mut SmallRng) -> String {
    match rng.random_range(0..20) {
        0..3 => pick(rng, SPECIAL_NUMBERS).to_string(),
        3 => {
            // Very long: digits by the hundred, a point, an exponent far out of range.
            let n = rng.random_range(30..400);
            let mut s = digits(rng, n);
            if rng.random_bool(0.5) {
                let at = rng.random_range(0..s.len());
                s.insert(at, '.');
            }
            if rng.random_bool(0.5) {
                let _ = write!(s, "e{}", rng.random_range(-400..400));
            }
            s
        }
        4 => pick(rng, INTEGERS).to_string(),
        5..10 => format!("{}", rng.random_range(-2.0f32..2.0)),
        10..12 => format!("{:e}", f32::from_bits(rng.random())),
        12 => format!("{:?}", f32::from_bits(rng.random())),
        _ => {
            let mut s = pick(rng, &["", "", "-", "+"]).to_string();
            let n = rng.random_range(0..6);
            s += &digits(rng, n);
            if rng.random_bool(0.4) {
                s.push('.');
                let n = rng.random_range(0..6);
                s += &digits(rng, n);
            }
            if rng.random_bool(0.3) {
                s += *pick(rng, &["e", "E", "e-", "e+", "E-"]);
                let n = rng.random_range(0..4);
                s += &digits(rng, n);
            }
            s
        }
    }
}

fn integer(rng: &mut SmallRng) -> String {
    match rng.random_range(0..10) {
        0..7 => rng.random_range(-140..=140).to_string(),
        7 => pick(rng, INTEGERS).to_string(),
        _ => number(rng),
    }
}

fn space(rng: &mut SmallRng) -> &'static str {
    if rng.random_bool(0.75) {
        ""
    } else {
        const SPACES: [&str; 8] = [" ", "  ", "\t", "\n", "\r\n", "\u{a0}", "\u{3000}", " \t "];
        SPACES[rng.random_range(0..SPACES.len())]
    }
}

/// `[..]`/`{..}` lists of numbers (sometimes unbalanced, with empty items, a trailing
/// comma, or nothing at all).
fn float_list(rng: &mut SmallRng) -> String {
    let (open, close) = *pick(rng, &[("[", "]"), ("{", "}"), ("[", "]"), ("[", "}"), ("{", ""), ("", "]"), ("[[", "]]")]);
    let n = dims(rng, int8::MAX_DIMS.max(bits::MAX_DIMS) / 4);
    let realistic = rng.random_bool(0.7);
    let mut s = format!("{}{open}", space(rng));
    for i in 0..n {
        if i > 0 {
            s += space(rng);
            s.push(',');
        }
        s += space(rng);
        if realistic && rng.random_bool(0.97) {
            let _ = write!(s, "{}", rng.random_range(-1.0f32..1.0));
        } else {
            s += &number(rng);
        }
    }
    if rng.random_ratio(1, 30) {
        s.push(',');
    }
    s += close;
    s += space(rng);
    s
}

/// `(scale,zero_point)[code,...]`, with the occasional piece missing or left over.
fn int8_literal(rng: &mut SmallRng) -> String {
    let scale = if rng.random_bool(0.6) { format!("{:?}", random_scale(rng)) } else { number(rng) };
    let n = dims(rng, int8::MAX_DIMS);
    let mut codes = String::new();
    for i in 0..n {
        if i > 0 {
            codes += space(rng);
            codes.push(',');
        }
        codes += space(rng);
        codes += &if rng.random_bool(0.95) { rng.random::<i8>().to_string() } else { integer(rng) };
    }
    let mut parts: Vec<String> =
        [space(rng), "(", space(rng), &scale, ",", &integer(rng), ")", space(rng), "[", &codes, "]", space(rng)].map(str::to_string).to_vec();
    if rng.random_ratio(1, 8) {
        let at = rng.random_range(0..parts.len());
        parts[at] = if rng.random_bool(0.5) { String::new() } else { pick(rng, &["(", ")", "[", "]", ",", "x", "]]"]).to_string() };
    }
    if rng.random_ratio(1, 10) {
        parts.push(pick(rng, &["x", "]", "[1]", ",", "\u{0}"]).to_string());
    }
    parts.concat()
}

fn bit_literal(rng: &mut SmallRng) -> String {
    let n = dims(rng, bits::MAX_DIMS);
    let mut s: String = (0..n).map(|_| if rng.random_bool(0.5) { '1' } else { '0' }).collect();
    if rng.random_ratio(1, 8) {
        let at = rng.random_range(0..=s.len());
        s.insert(at, *pick(rng, &['2', ' ', 'x', 'é', '\u{0}', '-', '٣']));
    }
    format!("{}{s}{}", space(rng), space(rng))
}

const ALPHABET: &[char] = &[
    '0', '1', '2', '9', '-', '+', '.', 'e', 'E', ',', '(', ')', '[', ']', '{', '}', ' ', '\t', '\n', 'n', 'a', 'i', 'f', 'I', 'N', 'x', '_', 'é', '∞', '\u{0}',
    '\u{a0}', '\u{feff}', '٣',
];

/// Character-level edits (so the result stays a string): deletions, insertions of
/// grammar characters and number tokens, replacements, truncation, duplicated runs, swaps.
fn mutate_text(rng: &mut SmallRng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.random_range(1..=3) {
        let len = chars.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                chars.remove(rng.random_range(0..len));
            }
            1 => {
                let at = rng.random_range(0..=len);
                chars.insert(at, *pick(rng, ALPHABET));
            }
            2 if len > 0 => {
                let at = rng.random_range(0..len);
                chars[at] = *pick(rng, ALPHABET);
            }
            3 => chars.truncate(rng.random_range(0..=len)),
            4 => {
                let at = rng.random_range(0..=len);
                let token = number(rng);
                chars.splice(at..at, token.chars());
            }
            5 if len > 0 => {
                let from = rng.random_range(0..len);
                let piece = chars[from..(from + rng.random_range(1..=32)).min(len)].to_vec();
                let at = rng.random_range(0..=len);
                chars.splice(at..at, piece);
            }
            _ if len > 1 => {
                let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                chars.swap(a, b);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn random_chars(rng: &mut SmallRng) -> String {
    if rng.random_bool(0.5) {
        String::from_utf8_lossy(&random_bytes(rng)).into_owned()
    } else {
        let n = rng.random_range(0..40);
        (0..n).map(|_| *pick(rng, ALPHABET)).collect()
    }
}

/// A text input for either type: literals of both forms and of the other type, float
/// lists, their mutations, and noise.
fn literal(rng: &mut SmallRng, valid: &mut dyn FnMut(&mut SmallRng) -> String) -> String {
    match rng.random_range(0..100) {
        0..20 => valid(rng),
        20..45 => {
            let s = valid(rng);
            mutate_text(rng, &s)
        }
        45..60 => float_list(rng),
        60..70 => {
            let s = float_list(rng);
            mutate_text(rng, &s)
        }
        70..78 => int8_literal(rng),
        78..86 => bit_literal(rng),
        86..90 => number(rng),
        _ => random_chars(rng),
    }
}

// ---------------------------------------------------------------------------------------
// Properties of accepted values
// ---------------------------------------------------------------------------------------

/// What every int8vec value must satisfy: valid fields, and exact round trips through
/// text, binary and stored forms, each re-encoding to identical bytes.
/// Every form of a valid `int4vec` reads back as the same value.
fn check_int4(v: &Int4Vector) {
    assert!((1..=int4::MAX_DIMS).contains(&v.codes.len()) && v.codes.iter().all(|&c| c <= 15), "{} codes", v.codes.len());
    assert!(v.params.scale.is_finite() && v.params.scale > 0.0 && v.params.zero_point <= 15, "{:?}", v.params);
    let payload = v.encode();
    let stored = Int4Ref::decode(&payload).unwrap_or_else(|e| panic!("its stored form does not decode: {e:?}"));
    assert_eq!(&stored.to_owned(), v, "stored round trip");
    let literal = stored.to_text();
    assert_eq!(Int4Vector::parse(&literal).as_ref(), Ok(v), "text round trip through {literal:?}");
    let wire = stored.to_wire();
    assert_eq!(Int4Vector::from_wire(&wire).as_ref(), Ok(v), "binary round trip");
    assert_eq!(stored.to_int8().dequantize(), v.dequantize(), "int8vec holds it exactly");
    let norm = stored.norm(quantvec_core::kernels::active());
    assert!(norm.is_finite() && norm >= 0.0, "norm {norm}");
}

fn check_int8(v: &Int8Vector) {
    assert!((1..=int8::MAX_DIMS).contains(&v.codes.len()), "{} dimensions", v.codes.len());
    assert!(v.params.scale.is_finite() && v.params.scale > 0.0, "scale {}", v.params.scale);
    let payload = v.encode();
    let view = v.view();
    let literal = view.to_text();
    let parsed = Int8Vector::parse(&literal).unwrap_or_else(|e| panic!("its text form {literal:?} does not parse: {e}"));
    assert_eq!(&parsed, v, "text round trip through {literal:?}");
    assert_eq!(parsed.encode(), payload, "text round trip changes the encoding");
    let wire = view.to_wire();
    let received = Int8Vector::from_wire(&wire).unwrap_or_else(|e| panic!("its binary form does not receive: {e:?}"));
    assert_eq!(&received, v, "binary round trip");
    assert_eq!(received.view().to_wire(), wire, "binary round trip changes the bytes");
    let stored = Int8Ref::decode(&payload).unwrap_or_else(|e| panic!("its stored form does not decode: {e:?}"));
    assert_eq!(&stored.to_owned(), v, "stored round trip");
    assert_eq!(stored.sum, v.codes.iter().map(|&c| i32::from(c)).sum::<i32>(), "cached sum");
    assert_eq!(stored.sum_sq, v.codes.iter().map(|&c| i32::from(c) * i32::from(c)).sum::<i32>(), "cached sum of squares");
    assert_eq!(stored.to_text(), literal);
    let norm = stored.norm();
    assert!(norm.is_finite() && norm >= 0.0, "norm {norm}");
}

/// The same for bitvec values, with the padding bits after the last dimension 0.
fn check_bits(v: &BitVector) {
    let view = v.view();
    let dims = view.dims();
    assert!((1..=bits::MAX_DIMS).contains(&dims), "{dims} dimensions");
    let payload = v.encode();
    assert_eq!(payload.len(), bits::HEADER_LEN + dims.div_ceil(8));
    if dims % 8 != 0 {
        assert_eq!(payload[payload.len() - 1] >> (dims % 8), 0, "padding bits are set");
    }
    let literal = view.to_text();
    assert!(literal.len() == dims && literal.bytes().all(|c| c == b'0' || c == b'1'), "text form {literal:?}");
    assert_eq!(BitVector::parse(&literal).as_ref(), Ok(v), "text round trip");
    let wire = view.to_wire();
    let received = BitVector::from_wire(&wire).unwrap_or_else(|e| panic!("its binary form does not receive: {e:?}"));
    assert_eq!(&received, v, "binary round trip");
    assert_eq!(received.view().to_wire(), wire, "binary round trip changes the bytes");
    assert_eq!(BitVector::from_msb_bytes(&view.to_msb_bytes(), dims).as_ref(), Ok(v), "packed-bytes round trip");
    let stored = BitRef::decode(&payload).unwrap_or_else(|e| panic!("its stored form does not decode: {e:?}"));
    assert_eq!(&stored.to_owned(), v, "stored round trip");
    assert_eq!(stored.to_owned().encode(), payload, "stored round trip changes the bytes");
    assert_eq!(stored.count_ones(), literal.bytes().filter(|&c| c == b'1').count() as u64);
}

// ---------------------------------------------------------------------------------------
// Text input and binary receive
// ---------------------------------------------------------------------------------------

#[test]
fn int8vec_text_input() {
    fuzz(
        "int8vec parse",
        12_000,
        DECODED,
        |rng| literal(rng, &mut |rng| any_int8(rng).view().to_text()),
        |input| match Int8Vector::parse(input) {
            Ok(v) => {
                check_int8(&v);
                true
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::InvalidText, ErrorKind::DataException, ErrorKind::OutOfRange, ErrorKind::TooLarge]);
                false
            }
        },
        |input| text(input),
    );
}

#[test]
fn int4vec_text_input() {
    fuzz(
        "int4vec parse",
        12_000,
        DECODED,
        |rng| literal(rng, &mut |rng| any_int4(rng).packed().view().to_text()),
        |input| match Int4Vector::parse(input) {
            Ok(v) => {
                check_int4(&v);
                true
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::InvalidText, ErrorKind::DataException, ErrorKind::OutOfRange, ErrorKind::TooLarge]);
                false
            }
        },
        |input| text(input),
    );
}

/// Binary receive and the stored form: accepted exactly when the header agrees with the
/// length, the parameters are valid and an odd count's pad nibble is 0.
#[test]
fn int4vec_binary_receive_and_stored_payload() {
    let pad_is_zero = |dims: usize, codes: &[u8]| dims.is_multiple_of(2) || codes.last().is_some_and(|&b| b >> 4 == 0);
    fuzz(
        "int4vec from_wire and decode",
        45_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 6) {
                // Garbage with a consistent header, to get past the length checks.
                let n = dims(rng, int4::MAX_DIMS).max(1);
                let mut bytes = random_len_bytes(rng, 8 + n.div_ceil(2));
                bytes[..2].copy_from_slice(&(n as u16).to_be_bytes());
                bytes[2] &= 0x1f;
                bytes[3] = 0;
                return bytes;
            }
            binary(rng, &mut |rng| any_int4(rng).packed().view().to_wire())
        },
        |bytes| {
            let result = Int4Vector::from_wire(bytes);
            let valid = bytes.len() >= 8 && {
                let dims = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                let scale = f32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                (1..=int4::MAX_DIMS).contains(&dims)
                    && bytes.len() == 8 + dims.div_ceil(2)
                    && bytes[2] <= 15
                    && bytes[3] == 0
                    && scale.is_finite()
                    && scale > 0.0
                    && pad_is_zero(dims, &bytes[8..])
            };
            assert_eq!(result.is_ok(), valid, "{result:?}");
            // The stored form is the same layout in native byte order.
            let mut stored = bytes.to_vec();
            if stored.len() >= 8 {
                let (dims, scale) = (u16::from_be_bytes([stored[0], stored[1]]), f32::from_be_bytes([stored[4], stored[5], stored[6], stored[7]]));
                stored[..2].copy_from_slice(&dims.to_ne_bytes());
                stored[4..8].copy_from_slice(&scale.to_ne_bytes());
            }
            let decoded = Int4Ref::decode(&stored);
            assert_eq!(decoded.is_ok(), valid, "stored: {:?}", decoded.map(|r| r.to_owned()));
            match result {
                Ok(v) => {
                    assert_eq!(&v.packed().view().to_wire(), bytes, "re-sent bytes differ");
                    assert_eq!(v.encode(), stored, "re-stored bytes differ");
                    check_int4(&v);
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidBinary]);
                    false
                }
            }
        },
        |bytes| hex(bytes),
    );
}

#[test]
fn bitvec_text_input() {
    fuzz(
        "bitvec parse",
        22_500,
        DECODED,
        |rng| literal(rng, &mut |rng| any_bits(rng).view().to_text()),
        |input| match BitVector::parse(input) {
            Ok(v) => {
                check_bits(&v);
                let digits = input.trim();
                if digits.bytes().all(|c| c == b'0' || c == b'1') {
                    assert_eq!(v.view().to_text(), digits, "a bit string is its own text form");
                }
                true
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::InvalidText, ErrorKind::DataException, ErrorKind::TooLarge]);
                false
            }
        },
        |input| text(input),
    );
}

/// Same bits, or both NaN (NaN payloads need not survive formatting).
fn same_float(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn float_list_input() {
    fuzz(
        "floats parse_list",
        10_500,
        ["lists", "not lists or rejected"],
        |rng| match rng.random_range(0..10) {
            0..6 => float_list(rng),
            6..9 => {
                let s = float_list(rng);
                mutate_text(rng, &s)
            }
            _ => random_chars(rng),
        },
        |input| {
            let starts_a_list = input.trim().starts_with(['[', '{']);
            let list = floats::parse_list(input, int8::TYPE_NAME);
            // Both types take a float list the same way, through this parser.
            let as_int8 = Int8Vector::parse(input);
            match list {
                Ok(None) => {
                    assert!(!starts_a_list, "a list was not recognised");
                    false
                }
                Ok(Some(values)) => {
                    assert!(starts_a_list);
                    let written: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
                    for (open, close) in [("[", "]"), ("{", "}")] {
                        let again = floats::parse_list(&format!("{open}{}{close}", written.join(",")), "fuzz").expect("its own form parses").expect("a list");
                        assert_eq!(again.len(), values.len());
                        assert!(again.iter().zip(&values).all(|(&a, &b)| same_float(a, b)), "values change when written back: {written:?}");
                    }
                    assert_eq!(as_int8, Int8Vector::quantize_minmax(&values), "int8vec input of a float list");
                    let as_bits = BitVector::parse(input);
                    assert_eq!(as_bits, BitVector::from_signs(&values), "bitvec input of a float list");
                    true
                }
                Err(e) => {
                    assert!(starts_a_list, "an error for text that is not a list: {e:?}");
                    expect_kind(&e, &[ErrorKind::InvalidText]);
                    assert_eq!(as_int8, Err(e), "int8vec input reports the list's error");
                    false
                }
            }
        },
        |input| text(input),
    );
}

#[test]
fn int8vec_binary_receive() {
    fuzz(
        "int8vec from_wire",
        45_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 6) {
                // Garbage with a consistent header, to get past the length checks.
                let n = dims(rng, int8::MAX_DIMS);
                let mut bytes = random_len_bytes(rng, 8 + n);
                bytes[..2].copy_from_slice(&(n as u16).to_be_bytes());
                bytes[3] = 0;
                return bytes;
            }
            binary(rng, &mut |rng| any_int8(rng).view().to_wire())
        },
        |bytes| {
            let result = Int8Vector::from_wire(bytes);
            let valid = bytes.len() >= 8 && {
                let dims = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                let scale = f32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                (1..=int8::MAX_DIMS).contains(&dims) && bytes.len() == 8 + dims && bytes[3] == 0 && scale.is_finite() && scale > 0.0
            };
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(v) => {
                    assert_eq!(&v.view().to_wire(), bytes, "re-sent bytes differ");
                    check_int8(&v);
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidBinary]);
                    false
                }
            }
        },
        |bytes| hex(bytes),
    );
}

/// pgvector's `vector` and `halfvec` values as the casts of `quantvec_pgvector` read them:
/// accepted exactly when the dimension count agrees with the length, and then read back
/// as written.
#[test]
fn pgvector_values() {
    fuzz(
        "pgvector decode",
        30_000,
        DECODED,
        |rng| {
            let half = rng.random_bool(0.5);
            let bytes = binary(rng, &mut |rng| {
                let n = dims(rng, pgvector::MAX_DIMENSIONS).clamp(1, pgvector::MAX_DIMENSIONS);
                let values = random_floats(rng, n);
                let mut bytes = pgvector::encode_vector(&values).expect("1 to 16,000 dimensions");
                if rng.random_bool(0.5) {
                    // The same count over half floats: a valid halfvec.
                    bytes.truncate(4 + 2 * n);
                }
                bytes
            });
            (half, bytes)
        },
        |(half, bytes)| {
            let width = if *half { 2 } else { 4 };
            let result = if *half { pgvector::decode_halfvec(bytes) } else { pgvector::decode_vector(bytes) };
            let valid = bytes.len() >= 4 && {
                let dims = i16::from_ne_bytes([bytes[0], bytes[1]]);
                dims >= 1 && dims as usize <= pgvector::MAX_DIMENSIONS && bytes.len() == 4 + width * dims as usize
            };
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(values) => {
                    if !*half {
                        let again = pgvector::encode_vector(&values).expect("a decoded vector re-encodes");
                        assert!(again[4..] == bytes[4..] && again[..2] == bytes[..2], "re-encoded components differ");
                    }
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidBinary]);
                    false
                }
            }
        },
        |(half, bytes)| format!("{} {}", if *half { "halfvec" } else { "vector" }, hex(bytes)),
    );
}

#[test]
fn bitvec_binary_receive() {
    fuzz(
        "bitvec from_wire",
        75_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 6) {
                let n = dims(rng, bits::MAX_DIMS);
                let mut bytes = random_len_bytes(rng, 4 + n.div_ceil(8));
                bytes[..4].copy_from_slice(&(n as i32).to_be_bytes());
                return bytes;
            }
            binary(rng, &mut |rng| any_bits(rng).view().to_wire())
        },
        |bytes| {
            let result = BitVector::from_wire(bytes);
            let valid = bytes.len() >= 4 && {
                let dims = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let packed = &bytes[4..];
                dims > 0
                    && dims as usize <= bits::MAX_DIMS
                    && packed.len() == (dims as usize).div_ceil(8)
                    && (dims % 8 == 0 || packed[packed.len() - 1] & ((1u8 << (8 - dims % 8)) - 1) == 0)
            };
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(v) => {
                    assert_eq!(&v.view().to_wire(), bytes, "re-sent bytes differ");
                    check_bits(&v);
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidBinary]);
                    false
                }
            }
        },
        |bytes| hex(bytes),
    );
}

/// `bitvec_from_bytes(bytea, int)` and the `bit`/`varbit` casts: packed bits with a
/// separate (possibly negative, as the casts convert an i32) dimension count.
#[test]
fn bitvec_packed_bytes() {
    fuzz(
        "bitvec from_msb_bytes",
        75_000,
        DECODED,
        |rng| {
            let bytes = binary(rng, &mut |rng| any_bits(rng).view().to_msb_bytes());
            let exact = bytes.len() * 8;
            let dims = match rng.random_range(0..10) {
                0..6 => exact.saturating_sub(rng.random_range(0..8)),
                6 => exact + rng.random_range(1..9),
                7 => *pick(rng, &[0, 1, bits::MAX_DIMS, bits::MAX_DIMS + 1, usize::MAX, -1i32 as usize, i32::MIN as usize, u32::MAX as usize]),
                _ => rng.random_range(0..70_000),
            };
            (bytes, dims)
        },
        |(bytes, dims)| {
            let result = BitVector::from_msb_bytes(bytes, *dims);
            let padding = bytes.len() * 8 - (*dims).min(bytes.len() * 8);
            let valid = (1..=bits::MAX_DIMS).contains(dims)
                && bytes.len() == dims.div_ceil(8)
                && (padding == 0 || bytes[bytes.len() - 1] & ((1u8 << padding) - 1) == 0);
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(v) => {
                    assert_eq!((&v.view().to_msb_bytes(), v.view().dims()), (bytes, *dims), "packed bytes change");
                    check_bits(&v);
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::DataException, ErrorKind::TooLarge]);
                    false
                }
            }
        },
        |(bytes, dims)| format!("dims {dims}, {}", hex(bytes)),
    );
}

/// `int8vec` from an integer array with given parameters.
#[test]
fn int8vec_from_codes() {
    fuzz(
        "int8vec from_codes",
        18_000,
        DECODED,
        |rng| {
            let n = dims(rng, int8::MAX_DIMS);
            let wide = rng.random_ratio(1, 4);
            let codes: Vec<i64> =
                (0..n)
                    .map(|_| {
                        if wide && rng.random_ratio(1, 50) {
                            *pick(rng, &[128, -129, i64::MAX, i64::MIN, 1 << 32, 255])
                        } else {
                            i64::from(rng.random::<i8>())
                        }
                    })
                    .collect();
            (codes, Params { scale: random_scale(rng), zero_point: rng.random() })
        },
        |(codes, params)| {
            let result = Int8Vector::from_codes(codes, *params);
            let valid = (1..=int8::MAX_DIMS).contains(&codes.len()) && codes.iter().all(|&c| i8::try_from(c).is_ok());
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(v) => {
                    assert!(v.codes.iter().zip(codes).all(|(&a, &b)| i64::from(a) == b));
                    assert_eq!(v.params, *params);
                    check_int8(&v);
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::OutOfRange, ErrorKind::DataException, ErrorKind::TooLarge]);
                    false
                }
            }
        },
        |(codes, params)| format!("{params:?}, {} codes {:?}", codes.len(), &codes[..codes.len().min(SHOWN / 8)]),
    );
}

/// The names the SQL functions take (`quantvec_report`'s distance, the kernel setting).
#[test]
fn names() {
    const DISTANCES: [&str; 7] = ["l2", "<->", "ip", "inner_product", "<#>", "cosine", "<=>"];
    fuzz(
        "distance/isa names",
        150_000,
        DECODED,
        |rng| {
            let name = if rng.random_bool(0.5) { pick(rng, &DISTANCES).to_string() } else { Isa::ALL[rng.random_range(0..4)].name().to_string() };
            match rng.random_range(0..4) {
                0 => name,
                1 => name.chars().map(|c| if rng.random_bool(0.5) { c.to_ascii_uppercase() } else { c }).collect(),
                2 => mutate_text(rng, &name),
                _ => random_chars(rng),
            }
        },
        |name| {
            let isa = Isa::from_name(name);
            if let Some(isa) = isa {
                assert!(isa.name().eq_ignore_ascii_case(name));
            }
            match Distance::from_name(name) {
                Ok(d) => {
                    let lower = name.to_ascii_lowercase();
                    assert!(DISTANCES.contains(&lower.as_str()), "{name:?} taken as {d:?}");
                    assert_eq!(Distance::from_name(&lower), Ok(d));
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidParameter]);
                    isa.is_some()
                }
            }
        },
        |name| text(name),
    );
}

// ---------------------------------------------------------------------------------------
// Stored payloads
// ---------------------------------------------------------------------------------------

#[test]
fn int8vec_stored_payload() {
    fuzz(
        "int8vec decode",
        30_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 5) {
                // Garbage of a length that matches its header, up to the u16 limit.
                let n = if rng.random_ratio(1, 20) { rng.random_range(int8::MAX_DIMS..=usize::from(u16::MAX)) } else { dims(rng, int8::MAX_DIMS) };
                let mut bytes = random_len_bytes(rng, int8::HEADER_LEN + n);
                bytes[..2].copy_from_slice(&(n as u16).to_ne_bytes());
                bytes[3] = 0;
                return bytes;
            }
            binary(rng, &mut |rng| any_int8(rng).encode())
        },
        |payload| match Int8Ref::decode(payload) {
            Ok(stored) => {
                assert_eq!(stored.dims() + int8::HEADER_LEN, payload.len());
                let _ = (stored.norm(), stored.dequantize());
                let owned = stored.to_owned();
                let again = owned.encode();
                // Everything but the cached sums, which decode trusts, re-encodes as it was.
                assert_eq!((&again[..8], &again[16..]), (&payload[..8], &payload[16..]), "re-encoding differs");
                check_int8(&owned);
                true
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::InvalidBinary]);
                false
            }
        },
        |payload| hex(payload),
    );
}

#[test]
fn bitvec_stored_payload() {
    fuzz(
        "bitvec decode",
        75_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 5) {
                let n = if rng.random_ratio(1, 20) { rng.random_range(bits::MAX_DIMS..=usize::from(u16::MAX)) } else { dims(rng, bits::MAX_DIMS) };
                let mut bytes = random_len_bytes(rng, bits::HEADER_LEN + n.div_ceil(8));
                bytes[..2].copy_from_slice(&(n as u16).to_ne_bytes());
                return bytes;
            }
            binary(rng, &mut |rng| any_bits(rng).encode())
        },
        |payload| match BitRef::decode(payload) {
            Ok(stored) => {
                assert_eq!(stored.bytes().len() + bits::HEADER_LEN, payload.len());
                let owned = stored.to_owned();
                assert_eq!(&owned.encode(), payload, "re-encoding differs");
                check_bits(&owned);
                true
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::InvalidBinary]);
                false
            }
        },
        |payload| hex(payload),
    );
}

// ---------------------------------------------------------------------------------------
// Index pages
// ---------------------------------------------------------------------------------------

fn random_meta(rng: &mut SmallRng) -> Meta {
    let word = |rng: &mut SmallRng| if rng.random_bool(0.3) { *pick(rng, &INTERESTING) as u32 } else { rng.random_range(0..100_000) };
    let format = rng.random_range(meta::OLDEST_READABLE..=meta::VERSION);
    Meta {
        format,
        metric: Metric::from_u8(rng.random_range(1..=4)).expect("a metric"),
        residual: rng.random(),
        code_bits: if format >= 3 && rng.random() { 4 } else { 1 },
        vector_bits: if format >= 3 && rng.random() { 4 } else { 8 },
        labels: format >= 4 && rng.random(),
        dims: word(rng),
        lists: word(rng),
        centroid_start: word(rng),
        centroid_pages: word(rng),
        directory_start: word(rng),
        directory_pages: word(rng),
        vector_head: word(rng),
        vector_insert: word(rng),
        code_tail: word(rng),
        centroid_exponent: rng.random(),
        build_id: rng.random(),
        rows_at_build: rng.random(),
    }
}

#[test]
fn index_metapage() {
    fuzz(
        "ivf Meta::from_bytes",
        150_000,
        DECODED,
        |rng| {
            let mut page = match rng.random_range(0..10) {
                0 => random_bytes(rng),
                1 => random_len_bytes(rng, Meta::LEN),
                _ => {
                    let mut bytes = random_meta(rng).to_bytes().to_vec();
                    if rng.random_bool(0.8) {
                        for _ in 0..rng.random_range(1..=3) {
                            mutate_in_place(rng, &mut bytes);
                        }
                    }
                    if rng.random_ratio(1, 4) {
                        let donor = random_meta(rng).to_bytes();
                        mutate(rng, &mut bytes, &donor);
                    }
                    bytes
                }
            };
            if rng.random_ratio(1, 5) {
                // The glue passes the whole page's data.
                let more = rng.random_range(0..8000);
                page.extend((0..more).map(|_| rng.random::<u8>()));
            }
            page
        },
        |bytes| {
            let result = Meta::from_bytes(bytes);
            let word = |i: usize| u32::from_ne_bytes(bytes[i..i + 4].try_into().unwrap());
            let valid = bytes.len() >= Meta::LEN
                && word(0) == meta::MAGIC
                && (meta::OLDEST_READABLE..=meta::VERSION).contains(&word(4))
                && Metric::from_u8(bytes[8]).is_some()
                // Bit 0 residual, bit 1 4-bit vectors, bit 2 labels, the high nibble code bits
                // − 1 (0 or 3): bits 1 and 4-7 only from format 3 on, bit 2 from format 4.
                && bytes[9] & 0x08 == 0
                && matches!(bytes[9] >> 4, 0 | 3)
                && (bytes[9] & 0xf2 == 0 || word(4) >= 3)
                && (bytes[9] & 0x04 == 0 || word(4) >= 4);
            assert_eq!(result.is_ok(), valid, "{result:?}");
            match result {
                Ok(m) => {
                    let again = m.to_bytes();
                    assert_eq!(Meta::from_bytes(&again).as_ref(), Ok(&m), "round trip");
                    assert_eq!(again.to_vec(), bytes[..Meta::LEN].to_vec(), "re-encoding differs");
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::DataException]);
                    false
                }
            }
        },
        |bytes| hex(bytes),
    );
}

fn random_calibration(rng: &mut SmallRng) -> Calibration {
    let (probes, factors) = (rng.random_range(1..80usize), rng.random_range(1..25usize));
    Calibration {
        queries: rng.random_range(0..300),
        probes: (0..probes).map(|_| rng.random_range(1..5000)).collect(),
        codes: (0..probes).map(|_| rng.random_range(0.0f32..1e7)).collect(),
        rescore_factors: (0..factors).map(|_| rng.random_range(1.0f32..300.0)).collect(),
        recall: (0..probes * factors).map(|_| f32::from(rng.random::<u16>()) / 65535.0).collect(),
        rows: rng.random(),
        code_cost: 1.0,
    }
    .for_code_bits(if rng.random() { 4 } else { 1 })
}

/// The recall calibration after the metapage's fields: damage is refused as such, and
/// whatever is accepted chooses settings without panicking.
#[test]
fn index_calibration() {
    fuzz(
        "ivf Calibration::from_bytes",
        60_000,
        DECODED,
        |rng| {
            let mut bytes = random_calibration(rng).to_bytes();
            match rng.random_range(0..6) {
                0 => bytes = random_bytes(rng),
                1 => bytes.truncate(rng.random_range(0..=bytes.len())),
                2 | 3 => {
                    for _ in 0..rng.random_range(1..=4) {
                        mutate_in_place(rng, &mut bytes);
                    }
                }
                _ => {}
            }
            bytes
        },
        |bytes| match Calibration::from_bytes(bytes) {
            Ok(c) => {
                assert_eq!(Calibration::from_bytes(&c.to_bytes()).as_ref(), Ok(&c), "round trip");
                for target in [0.0, 0.5, 0.95, 1.0] {
                    if let Some(choice) = c.choose(target, None, None) {
                        assert!(choice.probes > 0 && choice.rescore_factor >= 1.0 && (0.0..=1.0).contains(&choice.recall), "{choice:?}");
                    }
                    let _ = c.choose(target, Some(7), None);
                    let _ = c.choose(target, None, Some(3.0));
                }
                assert!(c.frontier().len() <= c.recall.len());
                !c.is_empty()
            }
            Err(e) => {
                expect_kind(&e, &[ErrorKind::DataException]);
                assert!(e.message.contains("REINDEX"), "{}", e.message);
                false
            }
        },
        |bytes| hex(bytes),
    );
}

fn random_pointer(rng: &mut SmallRng) -> ItemPointer {
    match rng.random_range(0..4) {
        0 => ItemPointer::NONE,
        1 => ItemPointer { block: rng.random(), offset: rng.random() },
        _ => ItemPointer { block: rng.random_range(0..1000), offset: rng.random_range(0..300) },
    }
}

/// Directory entries and the item pointers in them (and in block links and vector items).
#[test]
fn index_directory_entries() {
    fuzz(
        "ivf ListEntry/ItemPointer",
        300_000,
        DECODED,
        |rng| {
            if rng.random_ratio(1, 4) {
                return random_len_bytes(rng, ListEntry::LEN);
            }
            binary(rng, &mut |rng| {
                let entry = ListEntry { head: random_pointer(rng), insert: random_pointer(rng), tail: random_pointer(rng) };
                entry.to_bytes().to_vec()
            })
        },
        |bytes| {
            // Item pointers (and `from_bytes`) take a slice at least their length, as every
            // caller cuts one from a page; what matters is that they read only that part.
            if let Some(head) = bytes.first_chunk::<{ ItemPointer::LEN }>() {
                let p = ItemPointer::read(bytes);
                assert_eq!(vector_tid(bytes), p);
                let mut again = [0u8; ItemPointer::LEN];
                p.write(&mut again);
                assert_eq!(&again, head, "item pointer re-encoding differs");
            }
            if let Some(whole) = bytes.first_chunk::<{ ListEntry::LEN }>() {
                let entry = ListEntry::from_bytes(bytes);
                assert_eq!(&entry.to_bytes(), whole, "entry re-encoding differs");
                assert_eq!(ListEntry::from_bytes(&entry.to_bytes()), entry);
            }
            match ListEntry::try_from_bytes(bytes) {
                Ok(entry) => {
                    assert_eq!(bytes.len(), ListEntry::LEN);
                    assert_eq!(entry, ListEntry::from_bytes(bytes));
                    true
                }
                Err(e) => {
                    assert_ne!(bytes.len(), ListEntry::LEN, "{e:?}");
                    expect_kind(&e, &[ErrorKind::DataException]);
                    false
                }
            }
        },
        |bytes| hex(bytes),
    );
}

#[test]
fn index_centroid_pages() {
    fuzz(
        "ivf centroids_from_bytes",
        90_000,
        ["even length", "odd length"],
        |rng| {
            binary(rng, &mut |rng| {
                let n = rng.random_range(0..200);
                let mut values = random_floats(rng, n);
                let exponent = meta::round_centroids(&mut values);
                meta::centroids_to_bytes(&values, exponent)
            })
        },
        |bytes| {
            // An exponent as builds write them (0 to about 100), derived from the bytes; any
            // other exponent only gives other (finite or clamped) centroids.
            for exponent in [0, bytes.first().map_or(0, |&b| i16::from(b % 101))] {
                let values: Vec<f32> = meta::centroids_from_bytes(bytes, exponent).collect();
                assert_eq!(values.len(), bytes.len() / 2);
                let again = meta::centroids_to_bytes(&values, exponent);
                for (i, (&v, (a, b))) in values.iter().zip(again.chunks_exact(2).zip(bytes.chunks_exact(2))).enumerate() {
                    assert!(a == b || !v.is_finite() || v.abs() == f32::MAX, "centroid {i} re-encodes as {a:?}, stored as {b:?}");
                }
                if exponent == 0 && values.iter().all(|v| v.abs() <= 32768.0) {
                    let mut rounded = values.clone();
                    assert_eq!(meta::round_centroids(&mut rounded), 0);
                    assert!(rounded.iter().zip(&values).all(|(&a, &b)| same_float(a, b)), "stored centroids are not float16 values");
                }
            }
            bytes.len() % 2 == 0
        },
        |bytes| hex(bytes),
    );
}

/// An index quantizer with valid rows for it, and scorers (active and scalar kernels) for one
/// query against it.
struct Fixture {
    quantizer: Arc<Quantizer>,
    rows: Vec<EncodedRow>,
    query: Vec<u8>,
    scorer: Scorer,
    scalar_scorer: Scorer,
}

impl Fixture {
    fn describe(&self) -> String {
        let l = &self.quantizer;
        format!("{:?} index, {} dims, {} lists, residual {}", l.metric, l.dims, l.lists(), l.residual)
    }
}

fn fixtures(name: &str) -> Vec<Fixture> {
    let mut rng = rng_for(&format!("{name} fixtures"));
    let shapes = [
        (Metric::L2, 1, true),
        (Metric::L2, 12, true),
        (Metric::InnerProduct, 9, false),
        (Metric::Cosine, 16, true),
        (Metric::Cosine, 100, false),
        (Metric::InnerProduct, 384, true),
        (Metric::L2, 1000, false),
        (Metric::Hamming, 1, false),
        (Metric::Hamming, 70, false),
        (Metric::Hamming, 512, false),
    ];
    shapes
        .into_iter()
        .map(|(metric, dims, residual)| {
            let lists = rng.random_range(1..=4);
            let mut centroids = random_floats(&mut rng, lists * dims);
            centroids.iter_mut().for_each(|c| *c = c.clamp(-1e4, 1e4));
            meta::round_centroids(&mut centroids);
            // Half the float quantizers score 4-bit codes in the first pass.
            let code_bits = if metric != Metric::Hamming && rng.random() { 4 } else { 1 };
            // Half of them with a label per row.
            let labels = rng.random();
            let quantizer = Arc::new(
                Quantizer::new(k(), metric, dims, residual, centroids).and_then(|l| l.with_code_bits(code_bits)).expect("a quantizer").with_labels(labels),
            );
            let mut rows = Vec::new();
            for _ in 0..8 {
                let tid = random_pointer(&mut rng);
                if metric == Metric::Hamming {
                    let v = random_bits(&mut rng, dims);
                    rows.push(quantizer.encode_bits(k(), &v.view()).expect("a bit row"));
                } else {
                    let v = random_int8(&mut rng, dims);
                    rows.push(quantizer.encode_int8(k(), tid, &v.view()).expect("an int8 row"));
                }
                let label = if rng.random_ratio(1, 4) { None } else { Some(*pick(&mut rng, &[0, 1, -1, 7, i32::MIN, i32::MAX])) };
                rows.last_mut().expect("a row").label = label;
            }
            let query = random_len_bytes(&mut rng, quantizer.code_len());
            let floats = random_floats(&mut rng, dims);
            let make = |kernels: &'static Kernels| {
                let q = if metric == Metric::Hamming { IndexQuery::Bits(query.clone()) } else { IndexQuery::Floats(Query::new(&floats).expect("finite")) };
                Scorer::new(quantizer.clone(), kernels, q).expect("a scorer")
            };
            let (scorer, scalar_scorer) = (make(k()), make(scalar()));
            Fixture { quantizer, rows, query, scorer, scalar_scorer }
        })
        .collect()
}

/// A FastScan block: empty with valid rows written in, then corrupted in place, or garbage;
/// of the block length, or longer (accessors read only their part).
fn block_bytes(rng: &mut SmallRng, f: &Fixture) -> Vec<u8> {
    let quantizer = &f.quantizer;
    let mut bytes = match rng.random_range(0..10) {
        0..3 => random_len_bytes(rng, quantizer.block_len()),
        _ => {
            let mut b = block::empty(quantizer);
            for _ in 0..rng.random_range(0..=40) {
                let slot = rng.random_range(0..block::ROWS);
                block::write_row(quantizer, &mut b, slot, pick(rng, &f.rows), random_pointer(rng));
            }
            for _ in 0..rng.random_range(0..=6) {
                mutate_in_place(rng, &mut b);
            }
            b
        }
    };
    if rng.random_ratio(1, 6) {
        let more = rng.random_range(1..64);
        bytes.extend((0..more).map(|_| rng.random::<u8>()));
    }
    bytes
}

fn same_estimates(a: &[f32], b: &[f32]) -> bool {
    a.iter().zip(b).all(|(&x, &y)| same_float(x, y))
}

/// The block accessors and first-pass scoring over any block bytes: every accessor reads
/// where the quantizer says, writes land where reads find them, Hamming scores are exact,
/// and the SIMD scores equal the scalar ones.
#[test]
fn index_fastscan_blocks() {
    let fixtures = fixtures("blocks");
    fuzz(
        "ivf block accessors",
        90_000,
        ["block length", "longer"],
        |rng| {
            let i = rng.random_range(0..fixtures.len());
            let bytes = block_bytes(rng, &fixtures[i]);
            let (slot, row, target) = (rng.random_range(0..block::ROWS), rng.random_range(0..fixtures[i].rows.len()), random_pointer(rng));
            (i, bytes, slot, row, target)
        },
        |(i, bytes, slot, row, target)| {
            let f = &fixtures[*i];
            let quantizer = &f.quantizer;
            let code_bytes = block::ROWS * quantizer.code_len();
            let pointers_at = code_bytes + if quantizer.has_vectors() { 2 * 4 * block::ROWS } else { 0 };
            let labels_len = if quantizer.labels { 4 * block::ROWS + 4 } else { 0 };
            assert_eq!(quantizer.block_len(), pointers_at + ItemPointer::LEN * block::ROWS + labels_len);
            // Labels read where they are stored, and a filter matches exactly the rows with
            // a label among its values.
            let labels: Vec<Option<i32>> = (0..block::ROWS).map(|s| block::label(quantizer, bytes, s)).collect();
            // (The long list goes through the filter's Bloom filter.)
            let long: Vec<i32> = labels.iter().flatten().step_by(3).copied().chain(-20..20).collect();
            for values in [&[7][..], &[0, -1], &[], &long] {
                let want = labels.iter().enumerate().fold(0u32, |m, (s, l)| m | u32::from(l.is_some_and(|l| values.contains(&l))) << s);
                assert_eq!(block::LabelFilter::new(values.to_vec()).matching(quantizer, bytes), want, "labels {labels:?}, filter {values:?}");
            }
            if !quantizer.labels {
                assert!(labels.iter().all(Option::is_none));
            }
            assert_eq!(block::codes(quantizer, bytes), &bytes[..code_bytes]);
            if quantizer.has_vectors() {
                let (alphas, betas) = block::factors(quantizer, bytes);
                assert_eq!((alphas, betas), (&bytes[code_bytes..code_bytes + 128], &bytes[code_bytes + 128..code_bytes + 256]));
            }
            let pointers: Vec<ItemPointer> = (0..block::ROWS).map(|s| block::pointer(quantizer, bytes, s)).collect();
            for (s, p) in pointers.iter().enumerate() {
                assert_eq!(*p, ItemPointer::read(&bytes[pointers_at + ItemPointer::LEN * s..]), "pointer {s}");
            }
            assert_eq!(block::free_slot(quantizer, bytes), pointers.iter().position(|&p| p == ItemPointer::NONE));

            let term = f.scorer.list_term(0);
            let (mut active, mut reference) = ([0.0f32; block::ROWS], [0.0f32; block::ROWS]);
            f.scorer.estimate_block(bytes, term, &mut active);
            f.scalar_scorer.estimate_block(bytes, term, &mut reference);
            assert!(same_estimates(&active, &reference), "SIMD scores {active:?} differ from scalar {reference:?}");
            if quantizer.metric == Metric::Hamming {
                for (r, &score) in active.iter().enumerate() {
                    let exact: u32 = f.query.iter().enumerate().map(|(p, &q)| (bytes[block::ROWS * p + r] ^ q).count_ones()).sum();
                    assert_eq!(score, exact as f32, "row {r}");
                }
            }

            // A row written into this block reads back, and leaves the other rows alone.
            let mut written = bytes.clone();
            let row = &f.rows[*row];
            block::write_row(quantizer, &mut written, *slot, row, *target);
            assert_eq!(block::pointer(quantizer, &written, *slot), *target);
            let code: Vec<u8> = (0..quantizer.code_len()).map(|p| block::codes(quantizer, &written)[block::ROWS * p + slot]).collect();
            assert_eq!(code, row.code);
            if quantizer.has_vectors() {
                let (alphas, betas) = block::factors(quantizer, &written);
                assert_eq!((&alphas[4 * slot..4 * slot + 4], &betas[4 * slot..4 * slot + 4]), (&row.alpha.to_ne_bytes()[..], &row.beta.to_ne_bytes()[..]));
            }
            for (s, &p) in pointers.iter().enumerate().filter(|&(s, _)| s != *slot) {
                assert_eq!(block::pointer(quantizer, &written, s), p, "writing row {slot} changed row {s}");
                assert_eq!(block::label(quantizer, &written, s), labels[s], "writing row {slot} changed row {s}'s label");
            }
            assert_eq!(block::label(quantizer, &written, *slot), row.label.filter(|_| quantizer.labels));
            block::clear_row(quantizer, &mut written, *slot);
            assert_eq!(block::pointer(quantizer, &written, *slot), ItemPointer::NONE);
            assert_eq!(block::label(quantizer, &written, *slot), None);
            bytes.len() == quantizer.block_len()
        },
        |(i, bytes, slot, row, target)| format!("{}; row {row} to slot {slot} -> {target:?}; block {}", fixtures[*i].describe(), hex(bytes)),
    );
}

/// Rescoring from a row's vector item: any bytes of the item's length score without a
/// panic, and a short item is refused by a bounds check rather than read past its end.
#[test]
fn index_vector_items() {
    let fixtures: Vec<Fixture> = fixtures("vectors").into_iter().filter(|f| f.quantizer.has_vectors()).collect();
    fuzz(
        "ivf vector items",
        225_000,
        ["item length or longer", "short, refused"],
        |rng| {
            let i = rng.random_range(0..fixtures.len());
            let f = &fixtures[i];
            let len = f.quantizer.vector_len();
            let mut bytes = match rng.random_range(0..10) {
                0..3 => random_len_bytes(rng, len),
                _ => {
                    let mut v = pick(rng, &f.rows).vector.clone();
                    for _ in 0..rng.random_range(0..=4) {
                        mutate_in_place(rng, &mut v);
                    }
                    v
                }
            };
            match rng.random_range(0..10) {
                0 => bytes.truncate(rng.random_range(0..len)),
                1 => bytes.extend((0..rng.random_range(1..16)).map(|_| rng.random::<u8>())),
                _ => {}
            }
            (i, bytes)
        },
        |(i, bytes)| {
            let f = &fixtures[*i];
            if bytes.len() >= ItemPointer::LEN {
                assert_eq!(vector_tid(bytes), ItemPointer::read(bytes));
            }
            if bytes.len() >= f.quantizer.vector_len() {
                let _ = f.scorer.rescore(bytes);
                if let Some(row) = f.rows.iter().find(|r| r.vector == *bytes) {
                    // An intact item scores as the scalar kernels do, within float rounding.
                    let (a, b) = (f.scorer.rescore(&row.vector), f.scalar_scorer.rescore(&row.vector));
                    assert!((a - b).abs() <= 1e-3 * (1.0 + a.abs()) || (a.is_nan() && b.is_nan()), "{a} vs scalar {b}");
                }
                true
            } else {
                let refused = panic::catch_unwind(AssertUnwindSafe(|| f.scorer.rescore(bytes))).is_err();
                assert!(refused, "rescore read a {}-byte item of a quantizer whose items are {} bytes", bytes.len(), f.quantizer.vector_len());
                false
            }
        },
        |(i, bytes)| format!("{}; item {}", fixtures[*i].describe(), hex(bytes)),
    );
}

/// `Quantizer::encode_stored`: a build or insert decoding a stored column value into a row.
#[test]
fn index_encode_stored() {
    let fixtures = fixtures("encode_stored");
    fuzz(
        "ivf encode_stored",
        90_000,
        DECODED,
        |rng| {
            let i = rng.random_range(0..fixtures.len());
            let f = &fixtures[i];
            let dims = f.quantizer.dims;
            let bytes = binary(rng, &mut |rng| {
                let n = if rng.random_bool(0.8) { dims } else { dims + rng.random_range(0..3) - 1 }.max(1);
                if f.quantizer.has_vectors() {
                    random_int8(rng, n).encode()
                } else {
                    random_bits(rng, n).encode()
                }
            });
            (i, bytes, random_pointer(rng))
        },
        |(i, payload, tid)| {
            let quantizer = &fixtures[*i].quantizer;
            match quantizer.encode_stored(k(), *tid, payload) {
                Ok(row) => {
                    assert!(row.list < quantizer.lists());
                    assert_eq!((row.code.len(), row.vector.len()), (quantizer.code_len(), quantizer.vector_len()));
                    if quantizer.has_vectors() {
                        let value = Int8Ref::decode(payload).expect("an accepted payload decodes");
                        assert_eq!(value.dims(), quantizer.dims);
                        assert_eq!(vector_tid(&row.vector), *tid);
                        assert_eq!(row.vector[10] as i8, value.params.zero_point);
                        assert!(row.vector[11..].iter().zip(value.codes).all(|(&a, &b)| a as i8 == b));
                    } else {
                        let value = BitRef::decode(payload).expect("an accepted payload decodes");
                        assert_eq!((value.dims(), value.bytes()), (quantizer.dims, &row.code[..]));
                    }
                    true
                }
                Err(e) => {
                    expect_kind(&e, &[ErrorKind::InvalidBinary, ErrorKind::DataException]);
                    false
                }
            }
        },
        |(i, payload, tid)| format!("{}; tid {tid:?}; payload {}", fixtures[*i].describe(), hex(payload)),
    );
}

/// A small in-memory index and what built it.
struct Built {
    index: MemoryIndex,
    bits: Vec<BitVector>,
}

enum QueryInput {
    Floats(Vec<f32>),
    Bits(Vec<u8>),
}

struct SearchCase {
    built: usize,
    index: MemoryIndex,
    corruption: Vec<String>,
    query: QueryInput,
    options: SearchOptions,
    rows: usize,
}

/// Searches over corrupted pages: code bytes, factors, row pointers and vector items
/// overwritten in place (lengths are what the glue checks). Nothing may panic; an intact
/// index returns real rows once each, and Hamming scores are exact.
#[test]
fn index_search_over_corrupted_pages() {
    const ROWS: usize = 96;
    let mut rng = rng_for("search fixtures");
    let options = |lists, code_bits| BuildOptions { lists, sample_rows: ROWS, iterations: 3, code_bits };
    let mut built = Vec::new();
    let shapes = [
        (Metric::L2, 12, true, 1),
        (Metric::Cosine, 20, false, 1),
        (Metric::InnerProduct, 9, true, 1),
        (Metric::L2, 13, true, 4),
        (Metric::Cosine, 20, true, 4),
    ];
    for (metric, dims, residual, code_bits) in shapes {
        // Rows whose floats k-means can train on (extreme ones overflow its sums).
        let rows: Vec<Int8Vector> =
            (0..ROWS).map(|_| Int8Vector::quantize_minmax(&(0..dims).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>()).expect("finite")).collect();
        built.push(Built { index: MemoryIndex::build_int8(k(), metric, &rows, &options(4, code_bits), residual).expect("an index"), bits: Vec::new() });
    }
    // An index of int4vec rows: its vector items hold packed 4-bit codes.
    let rows4: Vec<Int4Vector> =
        (0..ROWS).map(|_| Int4Vector::quantize_minmax(&(0..11).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>()).expect("finite")).collect();
    built.push(Built { index: MemoryIndex::build_int4(k(), Metric::Cosine, &rows4, &options(4, 4)).expect("an index"), bits: Vec::new() });
    let bits: Vec<BitVector> = (0..ROWS).map(|_| random_bits(&mut rng, 70)).collect();
    built.push(Built { index: MemoryIndex::build_bits(k(), &bits, &options(3, 1)).expect("an index"), bits });
    fuzz(
        "ivf search",
        30_000,
        ["intact index", "corrupted index"],
        |rng| {
            let b = rng.random_range(0..built.len());
            let source = &built[b].index;
            let mut index = source.clone();
            let quantizer = index.quantizer.clone();
            let mut corruption = Vec::new();
            let edits = if rng.random_ratio(1, 5) { 0 } else { rng.random_range(1..=8) };
            for _ in 0..edits {
                if index.vectors.is_empty() || rng.random_bool(0.6) {
                    let list = rng.random_range(0..index.lists.len());
                    if index.lists[list].is_empty() {
                        continue;
                    }
                    let blocks = &mut index.lists[list];
                    let at = rng.random_range(0..blocks.len());
                    let block = &mut blocks[at];
                    if rng.random_bool(0.4) {
                        let slot = rng.random_range(0..block::ROWS);
                        let target = match rng.random_range(0..4) {
                            0 => ItemPointer { block: index.vectors.len() as u32 + rng.random_range(0..3), offset: 0 },
                            1 => ItemPointer { block: rng.random_range(0..ROWS as u32), offset: rng.random_range(0..3) },
                            _ => random_pointer(rng),
                        };
                        let pointer_at = quantizer.block_len() - ItemPointer::LEN * (block::ROWS - slot);
                        target.write(&mut block[pointer_at..]);
                        corruption.push(format!("list {list} block {at} slot {slot} -> {target:?}"));
                    } else {
                        let before = block.clone();
                        mutate_in_place(rng, block);
                        let changed: Vec<(usize, u8)> = block.iter().zip(&before).enumerate().filter(|(_, (a, b))| a != b).map(|(i, (&a, _))| (i, a)).collect();
                        corruption.push(format!("list {list} block {at} bytes {changed:?}"));
                    }
                } else {
                    let at = rng.random_range(0..index.vectors.len());
                    let item = &mut index.vectors[at];
                    let before = item.clone();
                    mutate_in_place(rng, item);
                    let changed: Vec<(usize, u8)> = item.iter().zip(&before).enumerate().filter(|(_, (a, b))| a != b).map(|(i, (&a, _))| (i, a)).collect();
                    corruption.push(format!("vector {at} bytes {changed:?}"));
                }
            }
            let query = if quantizer.has_vectors() {
                let mut q = random_floats(rng, quantizer.dims);
                q.iter_mut().for_each(|v| *v = v.clamp(-1e18, 1e18));
                QueryInput::Floats(q)
            } else {
                QueryInput::Bits(random_len_bytes(rng, quantizer.code_len()))
            };
            let options = SearchOptions { probes: rng.random_range(1..=quantizer.lists() + 1), rescore_factor: *pick(rng, &[1.0, 2.0, 10.0, 1e9]) };
            SearchCase { built: b, index, corruption, query, options, rows: rng.random_range(1..=12) }
        },
        |case| {
            let query = match &case.query {
                QueryInput::Floats(q) => IndexQuery::Floats(Query::new(q).expect("finite")),
                QueryInput::Bits(b) => IndexQuery::Bits(b.clone()),
            };
            let mut search = Search::new(Scorer::new(case.index.quantizer.clone(), k(), query).expect("a scorer"), case.options);
            let intact = case.corruption.is_empty();
            let mut seen = HashSet::new();
            for _ in 0..case.rows {
                let Some((tid, distance)) = search.next(&case.index) else { break };
                if intact {
                    assert!(tid.offset == 1 && (tid.block as usize) < ROWS, "{tid:?} is not a row");
                    assert!(seen.insert(tid), "{tid:?} returned twice");
                    if let QueryInput::Bits(q) = &case.query {
                        let row = built[case.built].bits[tid.block as usize].view();
                        let exact: u32 = row.bytes().iter().zip(q).map(|(a, b)| (a ^ b).count_ones()).sum();
                        assert_eq!(distance, f64::from(exact), "{tid:?}");
                    }
                }
            }
            intact
        },
        |case| {
            let query = match &case.query {
                QueryInput::Floats(q) => format!("{q:?}"),
                QueryInput::Bits(b) => hex(b),
            };
            let quantizer = &case.index.quantizer;
            format!("{:?} index #{}; {:?}; {} rows; corruption {:?}; query {query}", quantizer.metric, case.built, case.options, case.rows, case.corruption)
        },
    );
}

// ---------------------------------------------------------------------------------------
// .npy files
// ---------------------------------------------------------------------------------------

struct NpyCase {
    bytes: Vec<u8>,
    /// dtype, rows, cols and data of a file left intact.
    intact: Option<(&'static str, usize, usize, Vec<u8>)>,
}

fn npy_file(rng: &mut SmallRng) -> NpyCase {
    let dtype = *pick(rng, &["<f2", "<f4", "<i4"]);
    let width = if dtype == "<f2" { 2 } else { 4 };
    let (rows, cols) = (rng.random_range(0..6), rng.random_range(0..6));
    let data = random_len_bytes(rng, rows * cols * width);
    let mut intact = true;
    let shape = if rng.random_ratio(1, 4) {
        intact = false;
        pick(
            rng,
            &[
                "(18446744073709551615, 2)",
                "(4294967296, 4294967296)",
                "(9223372036854775807, 3)",
                "(0, 18446744073709551615)",
                "(3,)",
                "()",
                "(1, 2, 3)",
                "(-1, 2)",
                "( 2 ,3 ,)",
                "(2, 3",
                "[2, 3]",
            ],
        )
        .to_string()
    } else {
        format!("({rows}, {cols})")
    };
    let fortran = if rng.random_ratio(1, 10) {
        intact = false;
        "True"
    } else {
        "False"
    };
    let mut header = format!("{{'descr': '{dtype}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    if rng.random_ratio(1, 4) {
        intact = false;
        header = mutate_text(rng, &header);
    }
    let version = *pick(rng, &[1u8, 1, 2, 3]);
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend_from_slice(&[version, 0]);
    if version == 1 {
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    if rng.random_ratio(1, 3) {
        intact = false;
        let donor = bytes.clone();
        mutate(rng, &mut bytes, &donor);
    }
    NpyCase { bytes, intact: intact.then_some((dtype, rows, cols, data)) }
}

#[test]
fn npy_files() {
    fuzz(
        "npy decode",
        225_000,
        ["read (as either type)", "rejected"],
        |rng| if rng.random_ratio(1, 10) { NpyCase { bytes: random_bytes(rng), intact: None } } else { npy_file(rng) },
        |case| {
            let floats = npy::decode_f32(&case.bytes);
            let ints = npy::decode_i32(&case.bytes);
            if let Ok(m) = &floats {
                assert_eq!(Some(m.data.len()), m.rows.checked_mul(m.cols));
                let _ = (0..m.rows.min(3)).map(|r| m.row(r).len()).sum::<usize>();
            }
            if let Ok(m) = &ints {
                assert_eq!(Some(m.data.len()), m.rows.checked_mul(m.cols));
            }
            for e in [floats.as_ref().err(), ints.as_ref().err()].into_iter().flatten() {
                expect_kind(e, &[ErrorKind::InvalidParameter]);
            }
            if let Some((dtype, rows, cols, data)) = &case.intact {
                if *dtype == "<i4" {
                    let m = ints.as_ref().expect("an intact int32 file reads");
                    assert_eq!((m.rows, m.cols), (*rows, *cols));
                    assert_eq!(m.data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(), *data);
                } else {
                    let m = floats.as_ref().expect("an intact float file reads");
                    assert_eq!((m.rows, m.cols), (*rows, *cols));
                    let width = if *dtype == "<f2" { 2 } else { 4 };
                    for (v, stored) in m.data.iter().zip(data.chunks_exact(width)) {
                        let want =
                            if width == 2 { half::f16::from_le_bytes([stored[0], stored[1]]).to_f32() } else { f32::from_le_bytes(stored.try_into().unwrap()) };
                        assert!(same_float(*v, want));
                    }
                }
            }
            floats.is_ok() || ints.is_ok()
        },
        |case| hex(&case.bytes),
    );
}
