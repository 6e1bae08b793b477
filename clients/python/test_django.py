"""quantvec from Django's ORM (psycopg 3 backend), against a real server (QUANTVEC_DSN)."""

import os
import random

import django
import psycopg
import pytest
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict

import quantvec_psycopg
from quantvec_psycopg import BitVec, Int8Vec

# Django is configured here, from the same DSN the other tests use (host is the socket dir).
dsn = conninfo_to_dict(os.environ["QUANTVEC_DSN"])
settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dsn["dbname"],
            "USER": dsn["user"],
            "HOST": dsn["host"],
            "PORT": dsn["port"],
        }
    },
    USE_TZ=True,
)
django.setup()

from django.db import connection, models  # noqa: E402  (needs the settings above)
from django.test.utils import CaptureQueriesContext  # noqa: E402

from quantvec_django import (  # noqa: E402
    BitVecField,
    CosineDistance,
    HammingDistance,
    Int8VecField,
    JaccardDistance,
    L1Distance,
    L2Distance,
    MaxInnerProduct,
)

DIM = 12


class Item(models.Model):
    embedding = Int8VecField(dimensions=DIM, null=True)
    signs = BitVecField(dimensions=DIM, null=True)

    class Meta:
        app_label = "quantvec_test"
        db_table = "dj_items"


def raw(sql, params=()):
    with psycopg.connect(os.environ["QUANTVEC_DSN"]) as conn:
        quantvec_psycopg.register(conn)
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def vectors():
    random.seed(4)
    vectors = [[random.uniform(-1, 1) for _ in range(DIM)] for _ in range(200)]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS dj_items")
    with connection.schema_editor() as editor:
        editor.create_model(Item)
    # Even ids from float lists (real[], quantized by the server), odd ones from Int8Vec values.
    Item.objects.bulk_create(
        Item(id=i, embedding=v if i % 2 == 0 else Int8Vec.quantize(v), signs=BitVec.from_signs(v))
        for i, v in enumerate(vectors)
    )
    Item.objects.create(id=-1, embedding=None, signs=None)
    return vectors


def test_schema_and_round_trip(vectors):
    types = dict(raw("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'dj_items'::regclass AND attnum > 0"))
    assert types["embedding"] == f"int8vec({DIM})" and types["signs"] == f"bitvec({DIM})"
    for i in (6, 7):
        item = Item.objects.get(id=i)
        assert item.embedding == Int8Vec.quantize(vectors[i]) and item.signs == BitVec.from_signs(vectors[i])
    assert Item.objects.get(id=-1).embedding is None
    # create() and save() (an UPDATE) from a float list go through the real[] placeholder too.
    with CaptureQueriesContext(connection) as queries:
        item = Item.objects.create(id=1000, embedding=[0.5] * DIM)
        item.embedding = vectors[0]
        item.save()
    assert all("::real[]" in q["sql"] for q in queries.captured_queries)
    assert Item.objects.get(id=1000).embedding == Item.objects.get(id=0).embedding
    exact = Int8Vec(0.0078125, -3, tuple(range(-128, 127, 22)))
    Item.objects.filter(id=1000).update(embedding=exact, signs=BitVec("01" * (DIM // 2)))
    assert Item.objects.values_list("embedding", "signs").get(id=1000) == (exact, BitVec("01" * (DIM // 2)))
    Item.objects.filter(id=1000).delete()


def test_order_by_float_query_matches_raw_sql(vectors):
    query = vectors[13]
    nearest = Item.objects.order_by(CosineDistance("embedding", query)).values_list("id", flat=True)[:5]
    assert "embedding\" <=> %s::real[]" in str(nearest.query.sql_with_params()[0])
    ids = list(nearest)
    assert ids[0] == 13
    assert ids == [r[0] for r in raw("SELECT id FROM dj_items ORDER BY embedding <=> %s::real[] LIMIT 5", [query])]


@pytest.mark.parametrize("function, op", [(L2Distance, "<->"), (MaxInnerProduct, "<#>"), (CosineDistance, "<=>"), (L1Distance, "<+>")])
def test_distances_match_raw_sql(vectors, function, op):
    value = Int8Vec.quantize(vectors[21])
    by_value = list(Item.objects.annotate(d=function("embedding", value)).order_by("id").values_list("id", "d"))
    assert by_value == [tuple(r) for r in raw(f"SELECT id, embedding {op} %s FROM dj_items ORDER BY id", [value])]
    assert dict(by_value)[-1] is None
    by_floats = list(Item.objects.annotate(d=function("embedding", vectors[21])).order_by("id").values_list("id", "d"))
    # real[] queries for all but L1, which the server has only between int8vecs.
    query_sql = "%s::real[]" if op != "<+>" else "%s::real[]::int8vec"
    assert by_floats == [tuple(r) for r in raw(f"SELECT id, embedding {op} {query_sql} FROM dj_items ORDER BY id", [vectors[21]])]
    if op in ("<->", "<=>"):
        assert dict(by_value)[21] == pytest.approx(0, abs=1e-6) and 0 < dict(by_floats)[21] < 0.05


def test_bit_distances(vectors):
    bits = BitVec.from_signs(vectors[5])
    hamming = dict(Item.objects.filter(id__range=(0, len(vectors) - 1)).annotate(d=HammingDistance("signs", bits)).values_list("id", "d"))
    assert hamming == {i: sum(a != b for a, b in zip(bits.bits, BitVec.from_signs(v).bits)) for i, v in enumerate(vectors)}
    jaccard = list(Item.objects.annotate(d=JaccardDistance("signs", bits.bits)).order_by("id").values_list("id", "d"))
    assert jaccard == [tuple(r) for r in raw("SELECT id, signs <%%> %s FROM dj_items ORDER BY id", [bits])]
    assert dict(jaccard)[5] == 0
