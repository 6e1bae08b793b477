//! Errors of the pure layer. Each kind maps to one SQLSTATE in the extension glue, so the
//! kind says *what class* of problem it is and the message says what exactly was wrong.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A text literal that does not parse (SQLSTATE 22P02).
    InvalidText,
    /// A binary value that is truncated, inconsistent or otherwise corrupt (22P03).
    InvalidBinary,
    /// Values that are well-formed but not acceptable: NaN, empty vectors, wrong dimensions (22000).
    DataException,
    /// A number outside the range the type can hold (22003).
    OutOfRange,
    /// More dimensions than the type supports (54000).
    TooLarge,
    /// A bad argument to a function, such as a quantile outside [0, 1] (22023).
    InvalidParameter,
    /// A NULL where a value is required, such as an array element (22004).
    NullValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Postgres-style DETAIL line: what exactly was wrong, where the message is generic.
    pub detail: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), detail: None }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A text literal that does not parse, in Postgres's wording.
    pub(crate) fn syntax(type_name: &str, text: &str, detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidText, format!("invalid input syntax for type {type_name}: \"{}\"", clip(text))).with_detail(detail)
    }

    /// A binary (send/recv) value that is not valid.
    pub(crate) fn corrupt_wire(type_name: &str, detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidBinary, format!("invalid binary data for type {type_name}")).with_detail(detail)
    }
}

/// Long literals are cut in messages: a reader needs only their start.
fn clip(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)*)))
    };
}
pub(crate) use bail;
