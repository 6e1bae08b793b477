//! The client types against a real server: QUANTVEC_TEST_SOCKET and QUANTVEC_TEST_PORT name
//! a cluster with the extension installed (tests/clients.sh starts one). Without them the
//! test says so and does nothing.

use postgres::{Client, NoTls};
use quantvec_client::{BitVec, Int4Vec, Int8Vec};
use quantvec_core::bits::BitVector;
use quantvec_core::int8::{Int8Vector, Params};

fn client() -> Option<Client> {
    let (Ok(socket), Ok(port)) = (std::env::var("QUANTVEC_TEST_SOCKET"), std::env::var("QUANTVEC_TEST_PORT")) else {
        eprintln!("skipped: QUANTVEC_TEST_SOCKET and QUANTVEC_TEST_PORT are not set");
        return None;
    };
    let config = postgres::Config::new().host_path(socket).port(port.parse().unwrap()).user("postgres").dbname("postgres").clone();
    Some(config.connect(NoTls).expect("connect"))
}

#[test]
fn values_round_trip_in_binary_and_search_works() {
    let Some(mut client) = client() else { return };
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS quantvec; DROP TABLE IF EXISTS rs_items; CREATE TABLE rs_items (id int, e int8vec(4), b bitvec(4))")
        .unwrap();
    let rows: Vec<[f32; 4]> = (0..100).map(|i| [i as f32, 1.0, -(i as f32) / 2.0, 0.5]).collect();
    for (i, v) in rows.iter().enumerate() {
        let q = Int8Vec::quantize(v).unwrap();
        let b = BitVec(BitVector::from_signs(v).unwrap());
        client.execute("INSERT INTO rs_items VALUES ($1, $2, $3)", &[&(i as i32), &q, &b]).unwrap();
    }
    // What goes in comes out identical, through the binary protocol.
    let back: Int8Vec = client.query_one("SELECT e FROM rs_items WHERE id = 7", &[]).unwrap().get(0);
    assert_eq!(back, Int8Vec::quantize(&rows[7]).unwrap());
    let bits: BitVec = client.query_one("SELECT b FROM rs_items WHERE id = 7", &[]).unwrap().get(0);
    assert_eq!(bits.0, BitVector::from_signs(&rows[7]).unwrap());
    // The server agrees with the client's quantization: a real[] cast gives the same value.
    let cast: Int8Vec = client.query_one("SELECT $1::real[]::int8vec", &[&rows[9].to_vec()]).unwrap().get(0);
    assert_eq!(cast, Int8Vec::quantize(&rows[9]).unwrap());
    // A float query as a real[] parameter.
    let nearest: i32 = client.query_one("SELECT id FROM rs_items ORDER BY e <-> $1::real[] LIMIT 1", &[&rows[42].to_vec()]).unwrap().get(0);
    assert_eq!(nearest, 42);
    // A value the server must refuse is an error, and the session goes on.
    let bad = Int8Vec(Int8Vector::new(Params { scale: 1.0, zero_point: 0 }, vec![1; 5]).unwrap());
    let err = client.execute("INSERT INTO rs_items (e) VALUES ($1)", &[&bad]).unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("expected 4 dimensions"), "{err:?}");
    assert_eq!(client.query_one("SELECT count(*) FROM rs_items", &[]).unwrap().get::<_, i64>(0), 100);
}

#[test]
fn int4vec_round_trips_in_binary_and_matches_the_server() {
    let Some(mut client) = client() else { return };
    client.batch_execute("CREATE EXTENSION IF NOT EXISTS quantvec; DROP TABLE IF EXISTS rs_int4; CREATE TABLE rs_int4 (id int, e int4vec(5))").unwrap();
    let rows: Vec<[f32; 5]> = (0..50).map(|i| [i as f32, 1.0, -(i as f32) / 2.0, 0.5, (i % 7) as f32]).collect();
    for (i, v) in rows.iter().enumerate() {
        client.execute("INSERT INTO rs_int4 VALUES ($1, $2)", &[&(i as i32), &Int4Vec::quantize(v).unwrap()]).unwrap();
    }
    let back: Int4Vec = client.query_one("SELECT e FROM rs_int4 WHERE id = 7", &[]).unwrap().get(0);
    assert_eq!(back, Int4Vec::quantize(&rows[7]).unwrap());
    let cast: Int4Vec = client.query_one("SELECT $1::real[]::int4vec", &[&rows[9].to_vec()]).unwrap().get(0);
    assert_eq!(cast, Int4Vec::quantize(&rows[9]).unwrap());
    let text: String = client.query_one("SELECT e::text FROM rs_int4 WHERE id = 7", &[]).unwrap().get(0);
    assert_eq!(text, back.0.packed().view().to_text());
    let nearest: i32 = client.query_one("SELECT id FROM rs_int4 ORDER BY e <-> $1::real[] LIMIT 1", &[&rows[42].to_vec()]).unwrap().get(0);
    assert_eq!(nearest, 42);
    let err = client.execute("INSERT INTO rs_int4 (e) VALUES ($1)", &[&Int4Vec::quantize(&[1.0; 4]).unwrap()]).unwrap_err();
    assert!(err.as_db_error().is_some_and(|e| e.message().contains("expected 5 dimensions")), "{err:?}");
}
