"""quantvec from Python with psycopg 3, against a real server (QUANTVEC_DSN)."""

import math
import os
import random
import struct

import psycopg

import quantvec_psycopg
from quantvec_psycopg import BitVec, Int4Vec, Int8Vec


def connect():
    conn = psycopg.connect(os.environ["QUANTVEC_DSN"], autocommit=True)
    quantvec_psycopg.register(conn)
    return conn


def test_floats_in_operators_and_values_out():
    random.seed(1)
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS py_items")
        conn.execute("CREATE TABLE py_items (id int PRIMARY KEY, embedding int8vec(16))")
        vectors = [[random.uniform(-1, 1) for _ in range(16)] for _ in range(200)]
        with conn.cursor() as cur:
            # Lists of floats go in as real[], quantized by the assignment cast.
            cur.executemany("INSERT INTO py_items VALUES (%s, %s::real[])", list(enumerate(vectors)))
        query = vectors[5]
        ids = [r[0] for r in conn.execute("SELECT id FROM py_items ORDER BY embedding <=> %s::real[] LIMIT 3", [query])]
        assert ids[0] == 5
        distance = conn.execute("SELECT embedding <-> %s::real[] FROM py_items WHERE id = 5", [query]).fetchone()[0]
        assert 0 <= distance < 0.05
        for binary in (False, True):
            value = conn.cursor(binary=binary).execute("SELECT embedding FROM py_items WHERE id = 5").fetchone()[0]
            assert isinstance(value, Int8Vec) and len(value.codes) == 16
            assert value == Int8Vec.quantize(vectors[5]), "client-side quantization matches the server's"
            assert max(abs(a - b) for a, b in zip(value.to_floats(), vectors[5])) <= value.scale
        codes, scale, zero = conn.execute(
            "SELECT int8vec_codes(embedding), int8vec_scale(embedding), int8vec_zero_point(embedding) FROM py_items WHERE id = 5"
        ).fetchone()
        assert (tuple(codes), zero) == (value.codes, value.zero_point) and math.isclose(scale, value.scale, rel_tol=1e-7)
        floats = conn.execute("SELECT embedding::real[] FROM py_items WHERE id = 5").fetchone()[0]
        assert max(abs(a - b) for a, b in zip(floats, value.to_floats())) < 1e-6


def test_values_in_both_formats_round_trip():
    with connect() as conn:
        original = Int8Vec(0.0078125, -3, (1, -128, 127, 0))
        for binary in (False, True):
            back = conn.cursor(binary=binary).execute("SELECT %s::int8vec", [original]).fetchone()[0]
            assert back == original
        bits = BitVec("1011000101")
        for binary in (False, True):
            assert conn.cursor(binary=binary).execute("SELECT %s::bitvec", [bits]).fetchone()[0] == bits
        assert conn.execute("SELECT %s::bitvec <~> %s::bitvec", [bits, BitVec("0011000101")]).fetchone()[0] == 1


def test_int4vec_values_match_the_server_in_both_formats():
    random.seed(3)
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS py_int4")
        conn.execute("CREATE TABLE py_int4 (id int PRIMARY KEY, e int4vec)")
        # Odd and even dimension counts: an odd one pads its last byte. The floats are
        # float32 values, as the server receives them, so both sides quantize the same inputs.
        vectors = [[struct.unpack("f", struct.pack("f", random.uniform(-1, 1)))[0] for _ in range(n)] for n in (1, 2, 15, 16, 384)]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO py_int4 VALUES (%s, %s::real[])", list(enumerate(vectors)))
        for binary in (False, True):
            values = [r[0] for r in conn.cursor(binary=binary).execute("SELECT e FROM py_int4 ORDER BY id")]
            for value, floats in zip(values, vectors):
                assert isinstance(value, Int4Vec) and value == Int4Vec.quantize(floats)
                assert max(abs(a - b) for a, b in zip(value.to_floats(), floats)) <= value.scale
        original = Int4Vec(0.0078125, 3, (1, 0, 15))
        for binary in (False, True):
            assert conn.cursor(binary=binary).execute("SELECT %s::int4vec", [original]).fetchone()[0] == original
            assert conn.cursor(binary=binary).execute("SELECT int4vec_codes(%s::int4vec)", [original]).fetchone()[0] == [1, 0, 15]
        with conn.cursor() as cur:
            with cur.copy("COPY py_int4 (id, e) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int4vec"])
                copy.write_row((100, original))
        assert conn.execute("SELECT e::text FROM py_int4 WHERE id = 100").fetchone()[0] == "(0.0078125,3)[1,0,15]"
        try:
            conn.execute("SELECT %s::int4vec", [Int4Vec(1.0, 16, (1,))])
        except psycopg.DataError as e:
            assert "zero-point" in str(e)
        else:
            raise AssertionError("zero-point 16 accepted")


def test_binary_copy():
    random.seed(2)
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS py_copy")
        conn.execute("CREATE TABLE py_copy (id int, q int8vec(8), b bitvec(8))")
        rows = []
        for i in range(500):
            v = [random.gauss(0, 1) for _ in range(8)]
            rows.append((i, Int8Vec.quantize(v), BitVec.from_signs(v)))
        with conn.cursor() as cur:
            with cur.copy("COPY py_copy (id, q, b) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int8vec", "bitvec"])
                for row in rows:
                    copy.write_row(row)
        assert conn.execute("SELECT count(*) FROM py_copy").fetchone()[0] == 500
        back = {r[0]: (r[1], r[2]) for r in conn.cursor(binary=True).execute("SELECT id, q, b FROM py_copy")}
        assert all(back[i] == (q, b) for i, q, b in rows)
        # And out again in binary.
        with conn.cursor() as cur:
            with cur.copy("COPY py_copy (q) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(["int8vec"])
                assert sum(1 for _ in copy.rows()) == 500


def test_bad_values_are_errors_not_crashes():
    with connect() as conn:
        try:
            conn.execute("SELECT %s::int8vec", [Int8Vec(float("nan"), 0, (1,))])
        except psycopg.DataError as e:
            assert "scale" in str(e)
        else:
            raise AssertionError("NaN scale accepted")
        assert conn.execute("SELECT 1").fetchone()[0] == 1
