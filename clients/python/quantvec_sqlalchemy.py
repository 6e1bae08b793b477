"""SQLAlchemy (2.x, psycopg 3 driver) column types for quantvec's int8vec and bitvec.

    from quantvec_sqlalchemy import Int8Vec, BitVec

    class Item(Base):
        __tablename__ = "items"
        id = mapped_column(Integer, primary_key=True)
        embedding = mapped_column(Int8Vec(384))

    session.add(Item(embedding=[0.1, -0.2, ...]))      # quantized by the server on assignment
    session.scalars(select(Item).order_by(Item.embedding.cosine_distance([0.1, -0.2, ...])).limit(5))

Values come back as quantvec_psycopg.Int8Vec / BitVec. A list of floats is sent as real[]:
stored into an int8vec column the server quantizes it (the assignment cast), and as a query
the server's asymmetric `int8vec <op> real[]` operators score it at full precision.
"""

from __future__ import annotations

from psycopg.types.numeric import Float4
from sqlalchemy import Float, cast, literal
from sqlalchemy.dialects.postgresql import ARRAY, REAL
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import UserDefinedType

import quantvec_psycopg

__all__ = ["Int8Vec", "BitVec"]


def _real_array(values) -> ColumnElement:
    """A float list as a real[] query: an explicit CAST, so the operator resolves to real[]."""
    return cast(literal([float(v) for v in values], ARRAY(REAL)), ARRAY(REAL))


class Int8Vec(UserDefinedType):
    """int8vec(dim). Binds quantvec_psycopg.Int8Vec values or lists of floats."""

    cache_ok = True

    def __init__(self, dim: int | None = None):
        self.dim = dim

    def get_col_spec(self, **kw) -> str:
        return "INT8VEC" if self.dim is None else f"INT8VEC({self.dim})"

    def bind_processor(self, dialect):
        def process(value):
            if value is None or isinstance(value, str):
                return value
            if isinstance(value, quantvec_psycopg.Int8Vec):
                # Text form, sent untyped: the server reads it as the column's int8vec.
                return value.to_text()
            # float4 elements make psycopg send real[] (plain floats would go as float8[],
            # ints as int2[], which has no cast to int8vec).
            return [Float4(v) for v in value]

        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            # str unless quantvec_psycopg.register() was applied to the connection.
            return quantvec_psycopg.Int8Vec.from_text(value) if isinstance(value, str) else value

        return process

    class comparator_factory(UserDefinedType.Comparator):
        def _distance(self, op: str, other, real_ok: bool = True):
            if isinstance(other, ColumnElement):
                query = other
            elif isinstance(other, (quantvec_psycopg.Int8Vec, str)):
                query = cast(literal(other, Int8Vec()), Int8Vec())
            elif real_ok:
                query = _real_array(other)
            else:
                # No `int8vec <op> real[]` operator on the server: quantize the query there.
                query = cast(_real_array(other), Int8Vec())
            return self.op(op, return_type=Float)(query)

        def l2_distance(self, other):
            return self._distance("<->", other)

        def max_inner_product(self, other):
            """The negative inner product (`<#>`): ascending order is most similar first."""
            return self._distance("<#>", other)

        def cosine_distance(self, other):
            return self._distance("<=>", other)

        def l1_distance(self, other):
            # quantvec has `<+>` only between two int8vecs: a float list is quantized first.
            return self._distance("<+>", other, real_ok=False)


class BitVec(UserDefinedType):
    """bitvec(dim). Binds quantvec_psycopg.BitVec values or strings of '0' and '1'."""

    cache_ok = True

    def __init__(self, dim: int | None = None):
        self.dim = dim

    def get_col_spec(self, **kw) -> str:
        return "BITVEC" if self.dim is None else f"BITVEC({self.dim})"

    def bind_processor(self, dialect):
        def process(value):
            if isinstance(value, quantvec_psycopg.BitVec):
                return value.bits
            return value

        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            return quantvec_psycopg.BitVec(value) if isinstance(value, str) else value

        return process

    class comparator_factory(UserDefinedType.Comparator):
        def _distance(self, op: str, other):
            if not isinstance(other, ColumnElement):
                other = cast(literal(other, BitVec()), BitVec())
            return self.op(op, return_type=Float)(other)

        def hamming_distance(self, other):
            return self._distance("<~>", other)

        def jaccard_distance(self, other):
            return self._distance("<%>", other)
