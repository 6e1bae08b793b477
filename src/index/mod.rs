//! The `quantvec` index access method: inverted lists over binary codes, rescored with
//! int8 codes. The algorithm and its pages are `quantvec_core::ivf` and
//! `quantvec_core::ivf::paged`; this is the glue to PostgreSQL.
//!
//! One module per AM phase: `build`, `insert`, `scan`, `vacuum`, `cost`, none of which
//! imports another; what they share is below them: `pages` implements the core's page
//! store over shared buffers and generic WAL (all the index's buffer access) and caches what
//! a backend read of an index; `context` names the index in errors. `check` verifies an
//! index against its table, `stats` reports on it.

mod build;
mod check;
mod context;
mod cost;
mod heap;
mod insert;
mod labels;
mod options;
mod pages;
mod scan;
mod stats;
mod vacuum;

use pgrx::datum::Internal;
use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::{ItemPointer, Metric};
use quantvec_core::ErrorKind;

use crate::error::raise_with;

/// Bytes of data an index page holds (for size estimates elsewhere).
pub const PAGE_DATA: usize = quantvec_core::ivf::paged::CAPACITY;

pub fn init() {
    options::init();
}

/// What an index is over: its metric (from the operator class) and dimensions (from the
/// column's type modifier).
#[derive(Clone, Debug)]
pub struct Shape {
    pub metric: Metric,
    pub dims: usize,
    /// Bits per dimension of the first-pass codes.
    pub code_bits: u8,
    /// Bits per code of the column's values: 8 (`int8vec`), 4 (`int4vec`).
    pub vector_bits: u8,
    /// Whether the index has a label column.
    pub labels: bool,
}

impl Shape {
    /// The index's metric and the dimensions its column declares: None for a column
    /// without them (`ALTER COLUMN ... TYPE int8vec` kept the index under 0.2.0; the event
    /// trigger quantvec_check_dimensions now refuses it), whose rebuilds take them from the
    /// rows, so that such a table can still be reindexed.
    pub fn declared(index: pg_sys::Relation) -> (OperatorClass, Option<usize>) {
        // SAFETY: an index relation has a tuple descriptor with its one key column.
        let typmod = unsafe { crate::compat::first_attribute_typmod((*index).rd_att) };
        (operator_class(index), usize::try_from(typmod).ok().filter(|&d| d > 0))
    }

    /// The shape of an index of `dims` dimensions with `code_bits`-bit codes, refused when
    /// its blocks would not fit the pages (or the codes are neither 1 nor 4 bits).
    pub fn new(class: OperatorClass, code_bits: u8, dims: usize) -> Shape {
        let OperatorClass { metric, vector_bits, labels } = class;
        let quantizer = |dims: usize| {
            quantvec_core::ivf::Quantizer::new(quantvec_core::kernels::active(), metric, dims, true, vec![0.0; dims])
                .and_then(|l| l.with_code_bits(code_bits))
                .and_then(|l| l.with_vector_bits(vector_bits))
                .map(|l| l.with_labels(labels))
        };
        if let Err(e) = quantizer(1) {
            crate::error::raise(e);
        }
        use quantvec_core::ivf::paged::{chain, CAPACITY};
        let fits = |dims: usize| quantizer(dims).is_ok_and(|l| chain::pages_per_block(&l) <= chain::MAX_BLOCK_PAGES && l.vector_len() <= CAPACITY);
        if !fits(dims) {
            // The widest that fits, by bisection (a narrower width always fits when a wider
            // one does): one quantizer per step, not one per width below `dims`.
            let (mut fitting, mut too_wide) = (0, dims);
            while too_wide - fitting > 1 {
                let middle = fitting + (too_wide - fitting) / 2;
                if fits(middle) {
                    fitting = middle;
                } else {
                    too_wide = middle;
                }
            }
            let limit = fitting;
            let codes = if code_bits == 1 { String::new() } else { format!(" with code_bits = {code_bits}") };
            raise_with(ErrorKind::TooLarge, format!("quantvec indexes support at most {limit} dimensions for this type{codes} (got {dims})"));
        }
        Shape { metric, dims, code_bits, vector_bits, labels }
    }
}

/// The index itself, or the leaf indexes of a partitioned index (`function` names the
/// caller in errors).
fn leaf_indexes(index: &pgrx::PgRelation, function: &str) -> Vec<pg_sys::Oid> {
    // SAFETY: a catalog lookup of a relation that exists (PgRelation opened it).
    let partitioned = unsafe { pg_sys::get_rel_relkind(index.oid()) } == pg_sys::RELKIND_PARTITIONED_INDEX as std::ffi::c_char;
    if !partitioned {
        return vec![index.oid()];
    }
    pgrx::Spi::connect(|client| {
        client
            .select("SELECT relid FROM pg_catalog.pg_partition_tree($1) WHERE isleaf ORDER BY relid", None, &[index.oid().into()])?
            .map(|row| row.get::<pg_sys::Oid>(1).map(|oid| oid.expect("a partition's oid")))
            .collect::<Result<_, _>>()
    })
    .unwrap_or_else(|e: pgrx::spi::Error| crate::error::raise_with(quantvec_core::ErrorKind::InvalidParameter, format!("{function}: {e}")))
}

/// Opens a quantvec index under AccessShareLock (the caller closes it); any other
/// relation is an ERROR, raised before any of its pages is read.
fn open_quantvec_index(oid: pg_sys::Oid) -> pg_sys::Relation {
    // SAFETY: index_open raises an ERROR for anything that is not an index.
    let relation = unsafe { pg_sys::index_open(oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE) };
    // SAFETY: relation is open; then a catalog lookup by name.
    let quantvec = unsafe { (*(*relation).rd_rel).relam == pg_sys::get_am_oid(c"quantvec".as_ptr(), false) };
    if !quantvec {
        crate::error::raise_with(quantvec_core::ErrorKind::InvalidParameter, "not a quantvec index");
    }
    relation
}

/// What support function 1 of column `column`'s operator class returns.
fn support_value(index: pg_sys::Relation, column: u16) -> i32 {
    // SAFETY: index is an open index relation with that column; support function 1 of every
    // quantvec operator class takes no arguments and returns an integer.
    unsafe {
        let procedure = pg_sys::index_getprocid(index, column as _, 1);
        pg_sys::OidFunctionCall0Coll(procedure, pg_sys::InvalidOid).value() as i32
    }
}

fn operator_class(index: pg_sys::Relation) -> OperatorClass {
    let value = support_value(index, 1);
    if value == labels::LABEL_INT4 || value == labels::LABEL_HASHED {
        raise_with(ErrorKind::InvalidParameter, "the first column of a quantvec index is its vector (int8vec, int4vec or bitvec); a label column comes second");
    }
    let vector_bits = match value >> 8 {
        0 => Some(8),
        4 => Some(4),
        _ => None,
    };
    u8::try_from(value & 0xff)
        .ok()
        .and_then(Metric::from_u8)
        .zip(vector_bits)
        .map(|(metric, vector_bits)| OperatorClass { metric, vector_bits, labels: labels::has_label_column(index) })
        .unwrap_or_else(|| raise_with(ErrorKind::InvalidParameter, format!("operator class names unknown metric {value}")))
}

/// What an index's operator classes say: the metric, the codes of its column (support
/// function 1 returns the metric, plus 4 << 8 for an `int4vec` column), and whether a
/// label column follows it (see `labels`).
#[derive(Clone, Copy, Debug)]
pub struct OperatorClass {
    pub metric: Metric,
    pub vector_bits: u8,
    pub labels: bool,
}

/// Reports build progress to pg_stat_progress_create_index.
pub fn progress(parameter: u32, value: i64) {
    // SAFETY: updates this backend's progress slot.
    unsafe { pg_sys::pgstat_progress_update_param(parameter as i32, value) };
}

pub fn tid_from_pg(tid: &pg_sys::ItemPointerData) -> ItemPointer {
    ItemPointer { block: (u32::from(tid.ip_blkid.bi_hi) << 16) | u32::from(tid.ip_blkid.bi_lo), offset: tid.ip_posid }
}

pub fn tid_to_pg(tid: ItemPointer) -> pg_sys::ItemPointerData {
    pg_sys::ItemPointerData { ip_blkid: pg_sys::BlockIdData { bi_hi: (tid.block >> 16) as u16, bi_lo: tid.block as u16 }, ip_posid: tid.offset }
}

/// Support function 1 of the operator classes: the metric.
#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_l2() -> i32 {
    Metric::L2 as i32
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_inner_product() -> i32 {
    Metric::InnerProduct as i32
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_cosine() -> i32 {
    Metric::Cosine as i32
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_hamming() -> i32 {
    Metric::Hamming as i32
}

/// The `int4vec` operator classes' support function 1: the metric, and 4-bit vectors.
const INT4VEC: i32 = 4 << 8;

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_int4vec_l2() -> i32 {
    Metric::L2 as i32 | INT4VEC
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_int4vec_inner_product() -> i32 {
    Metric::InnerProduct as i32 | INT4VEC
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_metric_int4vec_cosine() -> i32 {
    Metric::Cosine as i32 | INT4VEC
}

/// The access method's routine table.
#[pg_extern(sql = "
CREATE FUNCTION quantvec_amhandler(internal) RETURNS index_am_handler
    PARALLEL SAFE IMMUTABLE STRICT LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
")]
fn quantvec_amhandler(_fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    // SAFETY: makeNode-style allocation of a zeroed IndexAmRoutine in the current memory
    // context, which Postgres copies or keeps for the relation's lifetime.
    let routine = unsafe {
        let routine = pg_sys::palloc0(std::mem::size_of::<pg_sys::IndexAmRoutine>()).cast::<pg_sys::IndexAmRoutine>();
        (*routine).type_ = pg_sys::NodeTag::T_IndexAmRoutine;
        routine
    };
    // SAFETY: freshly allocated above and not shared yet.
    let r = unsafe { &mut *routine };
    r.amstrategies = 0;
    // 1: what a column's class is (metric and codes, or a label column); 2: a hashed label
    // class's hash function.
    r.amsupport = 2;
    r.amoptsprocnum = 0;
    r.amcanorder = false;
    r.amcanorderbyop = true;
    r.amcanbackward = false;
    r.amcanunique = false;
    // A vector column, then an optional label column (see labels::has_label_column).
    r.amcanmulticol = true;
    r.amoptionalkey = true;
    r.amsearcharray = true;
    r.amsearchnulls = false;
    r.amstorage = false;
    r.amclusterable = false;
    r.ampredlocks = false;
    r.amcanparallel = false;
    r.amcaninclude = false;
    r.amusemaintenanceworkmem = true;
    r.amparallelvacuumoptions = pg_sys::VACUUM_OPTION_PARALLEL_BULKDEL as u8;
    r.amkeytype = pg_sys::InvalidOid;
    r.ambuild = Some(build::ambuild);
    r.ambuildempty = Some(build::ambuildempty);
    r.aminsert = Some(insert::aminsert);
    r.ambulkdelete = Some(vacuum::ambulkdelete);
    r.amvacuumcleanup = Some(vacuum::amvacuumcleanup);
    r.amcanreturn = None;
    r.amcostestimate = Some(cost::amcostestimate);
    r.amoptions = Some(options::amoptions);
    r.amproperty = None;
    r.ambuildphasename = Some(build::ambuildphasename);
    r.amvalidate = Some(amvalidate);
    r.amadjustmembers = None;
    r.ambeginscan = Some(scan::ambeginscan);
    r.amrescan = Some(scan::amrescan);
    r.amgettuple = Some(scan::amgettuple);
    r.amgetbitmap = None;
    r.amendscan = Some(scan::amendscan);
    r.ammarkpos = None;
    r.amrestrpos = None;
    r.amestimateparallelscan = None;
    r.aminitparallelscan = None;
    r.amparallelrescan = None;
    Internal::from(Some(pg_sys::Datum::from(routine)))
}

/// `amvalidate`: the operator classes are ours and fixed.
#[pg_guard]
unsafe extern "C-unwind" fn amvalidate(_opclass: pg_sys::Oid) -> bool {
    true
}

pgrx::extension_sql_file!(
    "../../sql/index.sql",
    name = "index_access_method",
    requires = [
        "operators",
        quantvec_amhandler,
        quantvec_metric_l2,
        quantvec_metric_inner_product,
        quantvec_metric_cosine,
        quantvec_metric_hamming,
        quantvec_metric_int4vec_l2,
        quantvec_metric_int4vec_inner_product,
        quantvec_metric_int4vec_cosine,
        labels::quantvec_label_int4,
        labels::quantvec_label_hashed
    ]
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    use quantvec_core::ivf::paged::store::write_one;
    use quantvec_core::ivf::paged::{Lock, PageMut, Store, META_BLOCK};

    use super::pages::PgStore;

    /// Changes the metapage of the open index `index`, WAL-logged.
    fn change_metapage(index: pg_sys::Relation, change: impl FnOnce(&mut PageMut<'_>)) {
        let store = PgStore::new(index);
        let mut locked = store.lock(META_BLOCK, Lock::Exclusive).unwrap();
        write_one(&store, &mut locked, |page| {
            change(page);
            Ok(())
        })
        .unwrap();
    }

    /// Writes `version` into the metapage of index `name`, as a newer or older quantvec
    /// would have left it.
    fn set_format_version(name: &str, version: u32) {
        let oid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid")).unwrap().unwrap();
        // SAFETY: the index exists; its metapage is locked exclusively while it is changed.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE);
            change_metapage(index, |page| page.data_mut()[4..8].copy_from_slice(&version.to_ne_bytes()));
            pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
    }

    /// The core's page initialisation is PostgreSQL's PageInit, plus our special fields.
    #[pg_test]
    fn pages_are_initialised_as_postgres_does() {
        let mut ours = vec![0xAAu8; quantvec_core::ivf::paged::PAGE_SIZE];
        PageMut::new(&mut ours).init(quantvec_core::ivf::paged::Kind::Vectors);
        let mut theirs = vec![0xAAu8; quantvec_core::ivf::paged::PAGE_SIZE];
        // SAFETY: a whole page of BLCKSZ bytes that we own.
        unsafe { pg_sys::PageInit(theirs.as_mut_ptr().cast(), pg_sys::BLCKSZ as usize, quantvec_core::ivf::paged::page::SPECIAL) };
        let special = quantvec_core::ivf::paged::PAGE_SIZE - quantvec_core::ivf::paged::page::SPECIAL;
        assert_eq!(ours[..special], theirs[..special]);
        assert_eq!(theirs[special..], [0; 8]);
    }

    #[pg_test(error = "quantvec index has page format version 99, but this build of quantvec reads versions 1 to 4; run REINDEX")]
    fn unknown_format_versions_are_refused() {
        Spi::run("CREATE TABLE t (id int, e int8vec(4))").unwrap();
        Spi::run("INSERT INTO t SELECT i, ARRAY[i, 1, 2, 3]::real[] FROM generate_series(1, 100) i").unwrap();
        Spi::run("CREATE INDEX t_e ON t USING quantvec (e)").unwrap();
        set_format_version("t_e", 99);
        Spi::run("SET enable_seqscan = off").unwrap();
        Spi::run("SELECT id FROM t ORDER BY e <-> '{1,1,1,1}'::real[] LIMIT 1").unwrap();
    }

    /// An index of page format 1 (quantvec 0.4.0: no calibration after the metapage's
    /// fields) is searched with the old defaults, takes inserts, and stays format 1.
    #[pg_test]
    fn format_1_indexes_are_read_without_a_calibration() {
        Spi::run("CREATE TABLE t (id int, e int8vec(4))").unwrap();
        Spi::run("INSERT INTO t SELECT i, ARRAY[i, 1, 2, 3]::real[] FROM generate_series(1, 100) i").unwrap();
        Spi::run("CREATE INDEX t_e ON t USING quantvec (e)").unwrap();
        let curve = || Spi::get_one::<i64>("SELECT count(*) FROM quantvec_index_recall('t_e')").unwrap().unwrap();
        assert!(curve() > 0, "a new index has a calibration");
        set_format_version("t_e", 1);
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 't_e'::regclass::oid").unwrap().unwrap();
        // SAFETY: the index exists; its metapage is locked exclusively while it is changed.
        unsafe {
            let index = pg_sys::index_open(oid, pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE);
            change_metapage(index, |page| page.truncate(quantvec_core::ivf::meta::Meta::LEN));
            // This backend's copy (same build id) goes too.
            super::pages::forget_cached(index);
            pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
        Spi::run("INSERT INTO t SELECT i, ARRAY[i, 1, 2, 3]::real[] FROM generate_series(101, 3000) i").unwrap();
        let stats = "SELECT format_version, default_rescore_factor, expected_recall IS NULL FROM quantvec_index_stats('t_e')";
        let (format, factor, no_recall) = Spi::get_three::<i32, f64, bool>(stats).unwrap();
        assert_eq!((format, factor, no_recall), (Some(1), Some(8.0), Some(true)));
        assert_eq!(curve(), 0);
        Spi::run("SET enable_seqscan = off").unwrap();
        let nearest = Spi::get_one::<i32>("SELECT id FROM t ORDER BY e <-> '{2000,1,2,3}'::real[] LIMIT 1").unwrap();
        assert_eq!(nearest, Some(2000));
    }

    /// A build whose code blocks (880 kB here) do not fit in half of maintenance_work_mem
    /// measures its recall through shared buffers, one query after another.
    #[pg_test]
    fn recall_is_measured_without_room_to_copy_the_lists() {
        Spi::run("SET maintenance_work_mem = '1MB'").unwrap();
        Spi::run("CREATE TABLE t (id int, e int8vec(64))").unwrap();
        Spi::run(
            "INSERT INTO t SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.3) + cos(d * (i % 997) * 0.011))::real[] FROM generate_series(1, 64) d)
               FROM generate_series(1, 40000) i",
        )
        .unwrap();
        Spi::run("CREATE INDEX t_e ON t USING quantvec (e) WITH (lists = 50)").unwrap();
        let curve = "SELECT count(*) > 1 AND max(recall) > 0.9 AND bool_and(recall <= 1) FROM quantvec_index_recall('t_e')";
        assert_eq!(Spi::get_one::<bool>(curve).unwrap(), Some(true));
    }

    #[pg_test]
    fn reindex_repairs_a_refused_index() {
        Spi::run("CREATE TABLE t (id int, e int8vec(4))").unwrap();
        Spi::run("INSERT INTO t SELECT i, ARRAY[i, 1, 2, 3]::real[] FROM generate_series(1, 100) i").unwrap();
        Spi::run("CREATE INDEX t_e ON t USING quantvec (e)").unwrap();
        set_format_version("t_e", 99);
        Spi::run("REINDEX INDEX t_e").unwrap();
        Spi::run("SET enable_seqscan = off").unwrap();
        let nearest = Spi::get_one::<i32>("SELECT id FROM t ORDER BY e <-> '{1,1,2,3}'::real[] LIMIT 1").unwrap();
        assert_eq!(nearest, Some(1));
    }
}
