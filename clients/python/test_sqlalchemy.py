"""quantvec from SQLAlchemy 2 (psycopg 3 driver), against a real server (QUANTVEC_DSN)."""

import os
import random

import psycopg
import pytest
from sqlalchemy import Index, Integer, create_engine, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import quantvec_psycopg
from quantvec_sqlalchemy import BitVec, Int8Vec

DIM = 16


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedding = mapped_column(Int8Vec(DIM))
    signs = mapped_column(BitVec(DIM))
    __table_args__ = (
        Index(
            "sa_items_embedding_idx",
            "embedding",
            postgresql_using="quantvec",
            postgresql_ops={"embedding": "int8vec_cosine_ops"},
        ),
    )


def raw(sql, params=()):
    """The same question in plain SQL through psycopg, to compare the ORM's answers with."""
    with psycopg.connect(os.environ["QUANTVEC_DSN"]) as conn:
        quantvec_psycopg.register(conn)
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def vectors():
    random.seed(3)
    return [[random.uniform(-1, 1) for _ in range(DIM)] for _ in range(300)]


@pytest.fixture(scope="module")
def engine(vectors):
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["QUANTVEC_DSN"]))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)  # the table and its quantvec index
    with Session(engine) as session:
        # Even ids from float lists (the server quantizes real[] on assignment), odd ones
        # from client-side Int8Vec values, and one row of NULLs.
        session.add_all(
            Item(
                id=i,
                embedding=v if i % 2 == 0 else quantvec_psycopg.Int8Vec.quantize(v),
                signs=quantvec_psycopg.BitVec.from_signs(v),
            )
            for i, v in enumerate(vectors)
        )
        session.add(Item(id=-1, embedding=None, signs=None))
        session.commit()
    yield engine
    engine.dispose()


def test_values_round_trip(engine, vectors):
    with Session(engine) as session:
        for i in (4, 5):
            item = session.get(Item, i)
            assert isinstance(item.embedding, quantvec_psycopg.Int8Vec)
            # Both ways in give the same value: the client quantizes exactly as the server.
            assert item.embedding == quantvec_psycopg.Int8Vec.quantize(vectors[i])
            assert item.signs == quantvec_psycopg.BitVec.from_signs(vectors[i])
        odd = quantvec_psycopg.Int8Vec(0.0078125, -3, tuple(range(-128, 128, 16)))
        session.add(Item(id=1000, embedding=odd, signs="1" * DIM))
        session.commit()
        session.expire_all()
        assert session.get(Item, 1000).embedding == odd
        assert session.get(Item, 1000).signs == quantvec_psycopg.BitVec("1" * DIM)
        null = session.get(Item, -1)
        assert null.embedding is None and null.signs is None
        session.delete(session.get(Item, 1000))
        session.commit()


def test_order_by_float_query_matches_raw_sql(engine, vectors):
    query = vectors[7]
    statement = select(Item.id).order_by(Item.embedding.cosine_distance(query)).limit(5)
    # The query vector goes as real[], so the server's asymmetric int8vec <=> real[] is used.
    sql = str(statement.compile(engine))
    assert "embedding <=> CAST(" in sql and "AS REAL[])" in sql
    with Session(engine) as session:
        ids = session.scalars(statement).all()
    assert ids[0] == 7 and len(ids) == 5
    assert ids == [r[0] for r in raw("SELECT id FROM sa_items ORDER BY embedding <=> %s::real[] LIMIT 5", [query])]


@pytest.mark.parametrize("method, op", [("l2_distance", "<->"), ("max_inner_product", "<#>"), ("cosine_distance", "<=>")])
def test_distances_match_raw_sql(engine, vectors, method, op):
    query = vectors[11]
    value = quantvec_psycopg.Int8Vec.quantize(vectors[20])
    with Session(engine) as session:
        by_floats = session.execute(select(Item.id, getattr(Item.embedding, method)(query)).order_by(Item.id)).all()
        by_value = session.execute(select(Item.id, getattr(Item.embedding, method)(value)).order_by(Item.id)).all()
    assert by_floats == [tuple(r) for r in raw(f"SELECT id, embedding {op} %s::real[] FROM sa_items ORDER BY id", [query])]
    assert by_value == [tuple(r) for r in raw(f"SELECT id, embedding {op} %s FROM sa_items ORDER BY id", [value])]
    # NULL embeddings give NULL distances; the others are numbers.
    assert dict(by_floats)[-1] is None and all(isinstance(d, float) for i, d in by_floats if i >= 0)
    if op != "<#>":
        # A stored vector is at ~0 from itself; against the full-precision query only nearly.
        assert dict(by_value)[20] == pytest.approx(0, abs=1e-6) and 0 <= dict(by_floats)[11] < 0.05


def test_l1_and_hamming(engine, vectors):
    value = quantvec_psycopg.Int8Vec.quantize(vectors[3])
    bits = quantvec_psycopg.BitVec.from_signs(vectors[3])
    with Session(engine) as session:
        l1 = session.execute(select(Item.id, Item.embedding.l1_distance(value)).order_by(Item.id)).all()
        l1_floats = session.execute(select(Item.id, Item.embedding.l1_distance(vectors[3])).order_by(Item.id)).all()
        hamming = session.execute(select(Item.id, Item.signs.hamming_distance(bits)).order_by(Item.id)).all()
        nearest = session.scalars(select(Item.id).order_by(Item.signs.hamming_distance(bits.bits)).limit(1)).one()
        jaccard = session.execute(select(Item.id, Item.signs.jaccard_distance(bits)).order_by(Item.id)).all()
    assert l1 == [tuple(r) for r in raw("SELECT id, embedding <+> %s FROM sa_items ORDER BY id", [value])]
    # No int8vec <+> real[] on the server: a float list is quantized there, giving the same.
    assert l1_floats == l1 and dict(l1)[3] == 0
    assert hamming == [tuple(r) for r in raw("SELECT id, signs <~> %s FROM sa_items ORDER BY id", [bits])]
    expected = {i: sum(a != b for a, b in zip(bits.bits, quantvec_psycopg.BitVec.from_signs(v).bits)) for i, v in enumerate(vectors)}
    assert {i: d for i, d in hamming if i >= 0} == expected and nearest == 3
    assert jaccard == [tuple(r) for r in raw("SELECT id, signs <%%> %s FROM sa_items ORDER BY id", [bits])]
    assert dict(jaccard)[3] == 0


def test_index_from_metadata_is_used(engine, vectors):
    definition = raw("SELECT indexdef FROM pg_indexes WHERE indexname = 'sa_items_embedding_idx'")[0][0]
    assert "USING quantvec (embedding int8vec_cosine_ops)" in definition
    statement = select(Item.id).order_by(Item.embedding.cosine_distance(vectors[9])).limit(5)
    with Session(engine) as session:
        session.execute(text("SET LOCAL enable_indexscan = off"))  # the exact answer, from the heap
        exact = session.scalars(statement).all()
    with Session(engine) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL quantvec.probes = 1000000"))  # every list: exact answers
        compiled = statement.compile(engine)  # the ORM's own SQL, explained
        plan = "\n".join(r[0] for r in session.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
        assert "Index Scan using sa_items_embedding_idx" in plan
        assert session.scalars(statement).all() == exact and exact[0] == 9
