"""Django (4.2+, PostgreSQL backend) model fields and distance expressions for quantvec.

    from quantvec_django import Int8VecField, CosineDistance

    class Item(models.Model):
        embedding = Int8VecField(dimensions=384)

    Item.objects.create(embedding=[0.1, -0.2, ...])      # quantized by the server on assignment
    Item.objects.order_by(CosineDistance("embedding", [0.1, -0.2, ...]))[:5]

Values come back as quantvec_psycopg.Int8Vec / BitVec. A list of floats is sent as real[]:
stored into an int8vec column the server quantizes it (the assignment cast), and as a query
the server's asymmetric `int8vec <op> real[]` operators score it at full precision.
"""

from __future__ import annotations

from django.db.models import Field, FloatField, Func, Value

from quantvec_psycopg import BitVec, Int8Vec

__all__ = [
    "Int8VecField",
    "BitVecField",
    "L2Distance",
    "MaxInnerProduct",
    "CosineDistance",
    "L1Distance",
    "HammingDistance",
    "JaccardDistance",
]


class _VectorField(Field):
    type_name = ""
    empty_strings_allowed = False

    def __init__(self, *args, dimensions: int | None = None, **kwargs):
        self.dimensions = dimensions
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.dimensions is not None:
            kwargs["dimensions"] = self.dimensions
        return name, path, args, kwargs

    def db_type(self, connection):
        return self.type_name if self.dimensions is None else f"{self.type_name}({self.dimensions})"

    def from_db_value(self, value, expression, connection):
        # Django's connections have no quantvec adapters: the value arrives as text.
        return self.to_python(value)


class Int8VecField(_VectorField):
    """An int8vec(dimensions) column holding quantvec_psycopg.Int8Vec values."""

    description = "int8-quantized vector"
    type_name = "int8vec"

    def to_python(self, value):
        return Int8Vec.from_text(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Int8Vec):
            return value.to_text()
        return [float(v) for v in value]

    def get_placeholder(self, value, compiler, connection):
        # A float list (already prepared) goes as real[]; the assignment cast quantizes it.
        return "%s::real[]" if isinstance(value, list) else "%s"


class BitVecField(_VectorField):
    """A bitvec(dimensions) column holding quantvec_psycopg.BitVec values."""

    description = "bit vector"
    type_name = "bitvec"

    def to_python(self, value):
        return BitVec(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return value.bits if isinstance(value, BitVec) else value


class _Query(Func):
    """A query vector with an explicit type, so the intended operator is chosen."""

    def __init__(self, value, type_name: str):
        super().__init__(Value(value), template=f"%(expressions)s::{type_name}")


class _Distance(Func):
    function = ""
    output_field = FloatField()
    real_ok = True  # whether the server has `int8vec <op> real[]`

    def __init__(self, expression, vector, **extra):
        if hasattr(vector, "resolve_expression"):
            query = vector
        elif isinstance(vector, (Int8Vec, str)):
            query = _Query(Int8VecField().get_prep_value(vector), "int8vec")
        elif self.real_ok:
            query = _Query([float(v) for v in vector], "real[]")
        else:
            query = _Query([float(v) for v in vector], "real[]::int8vec")  # quantized by the server
        super().__init__(expression, query, **extra)


class L2Distance(_Distance):
    arg_joiner = " <-> "


class MaxInnerProduct(_Distance):
    """The negative inner product (`<#>`): ascending order is most similar first."""

    arg_joiner = " <#> "


class CosineDistance(_Distance):
    arg_joiner = " <=> "


class L1Distance(_Distance):
    # quantvec has `<+>` only between two int8vecs: a float list is quantized first.
    arg_joiner = " <+> "
    real_ok = False


class HammingDistance(Func):
    function = ""
    arg_joiner = " <~> "
    output_field = FloatField()

    def __init__(self, expression, vector, **extra):
        if not hasattr(vector, "resolve_expression"):
            vector = _Query(BitVecField().get_prep_value(vector), "bitvec")
        super().__init__(expression, vector, **extra)


class JaccardDistance(HammingDistance):
    arg_joiner = " <%%> "  # % doubled: the SQL goes through the driver's %-formatting
