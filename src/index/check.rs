//! `quantvec_index_check(regclass)`: verifies an index against its table (written below).
