"""psycopg 3 support for quantvec's int8vec, int4vec and bitvec.

    import psycopg, quantvec_psycopg
    conn = psycopg.connect(...)
    quantvec_psycopg.register(conn)
    conn.execute("INSERT INTO items (embedding) VALUES (%s)", [Int8Vec.quantize([0.1, -0.2])])
    row = conn.execute("SELECT embedding FROM items").fetchone()   # an Int8Vec

Values travel in the same formats as the server's: text '(scale,zero_point)[codes]' and
'0101', binary (big-endian) dims u16, zero-point i8, 0, scale f32, codes for int8vec (for
int4vec the same header, then the codes two per byte, low nibble first, a 0 pad), and dims
i32 then bits most significant first for bitvec, so COPY ... (FORMAT BINARY) works too.
Float lists need no adapter: send them as real[] (`%s::real[]`).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo

__all__ = ["Int8Vec", "Int4Vec", "BitVec", "register"]


@dataclass(frozen=True)
class _Coded:
    """Codes with a scale and zero-point, f ≈ scale · (code − zero_point), written
    '(scale,zero_point)[code,...]' in text."""

    scale: float
    zero_point: int
    codes: tuple[int, ...]

    def to_floats(self) -> list[float]:
        return [self.scale * (c - self.zero_point) for c in self.codes]

    def to_text(self) -> str:
        return f"({_shortest(self.scale)},{self.zero_point})[{','.join(map(str, self.codes))}]"

    @classmethod
    def from_text(cls, text: str):
        params, codes = text.strip()[1:].split(")", 1)
        scale, zero = params.split(",")
        codes = codes.strip().strip("[]")
        return cls(_float32(float(scale)), int(zero), tuple(int(c) for c in codes.split(",")))

    @classmethod
    def _quantize(cls, values, levels: int, lowest: int):
        """Per-vector min/max quantization onto `levels` codes from `lowest`, as the
        server's casts from real[] do."""
        values = [float(v) for v in values]
        if not values or any(math.isnan(v) or math.isinf(v) for v in values):
            raise ValueError("need finite values")
        low, high = min(min(values), 0.0), max(max(values), 0.0)
        if high == low:
            return cls(1.0, 0, tuple(0 for _ in values))
        scale = _float32((high - low) / (levels - 1))
        highest = lowest + levels - 1
        zero = max(lowest, min(highest, _round(lowest - low / scale)))
        return cls(scale, zero, tuple(max(lowest, min(highest, _round(v / scale) + zero)) for v in values))


@dataclass(frozen=True)
class Int8Vec(_Coded):
    """int8 codes with their scale and zero-point: f ≈ scale · (code − zero_point)."""

    @classmethod
    def quantize(cls, values) -> "Int8Vec":
        """Per-vector min/max quantization, as the server's real[]::int8vec cast does."""
        return cls._quantize(values, 256, -128)

    def to_binary(self) -> bytes:
        return struct.pack(">HbBf", len(self.codes), self.zero_point, 0, self.scale) + bytes(c & 0xFF for c in self.codes)

    @classmethod
    def from_binary(cls, data: bytes) -> "Int8Vec":
        dims, zero, _, scale = struct.unpack_from(">HbBf", data)
        codes = tuple(b - 256 if b > 127 else b for b in data[8 : 8 + dims])
        return cls(scale, zero, codes)


@dataclass(frozen=True)
class Int4Vec(_Coded):
    """4-bit codes (0..15) with their scale and zero-point (0..15): f ≈ scale · (code − zero_point)."""

    @classmethod
    def quantize(cls, values) -> "Int4Vec":
        """Per-vector min/max quantization, as the server's real[]::int4vec cast does."""
        return cls._quantize(values, 16, 0)

    def to_binary(self) -> bytes:
        padded = self.codes + (0,) * (len(self.codes) % 2)
        packed = bytes(padded[i] | padded[i + 1] << 4 for i in range(0, len(padded), 2))
        return struct.pack(">HBBf", len(self.codes), self.zero_point, 0, self.scale) + packed

    @classmethod
    def from_binary(cls, data: bytes) -> "Int4Vec":
        dims, zero, _, scale = struct.unpack_from(">HBBf", data)
        codes = tuple((data[8 + i // 2] >> (4 * (i % 2))) & 15 for i in range(dims))
        return cls(scale, zero, codes)


@dataclass(frozen=True)
class BitVec:
    """One bit per dimension, as a string of '0' and '1'."""

    bits: str

    @classmethod
    def from_signs(cls, values) -> "BitVec":
        return cls("".join("1" if v > 0 else "0" for v in values))

    def to_binary(self) -> bytes:
        packed = int(self.bits + "0" * (-len(self.bits) % 8), 2).to_bytes((len(self.bits) + 7) // 8, "big")
        return struct.pack(">i", len(self.bits)) + packed

    @classmethod
    def from_binary(cls, data: bytes) -> "BitVec":
        (dims,) = struct.unpack_from(">i", data)
        value = int.from_bytes(data[4:], "big")
        return cls(format(value, f"0{8 * (len(data) - 4)}b")[:dims])


def _float32(x: float) -> float:
    """x rounded to the nearest float32, the precision the server keeps."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _round(x: float) -> int:
    """Round half away from zero, as the server does."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _shortest(x: float) -> str:
    """The shortest decimal that reads back as the same float32."""
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if struct.pack("f", float(text)) == struct.pack("f", x):
            return text
    return repr(x)


def register(conn) -> None:
    """Registers text and binary adapters for int8vec, int4vec and bitvec on a connection."""
    for name, cls in (("int8vec", Int8Vec), ("int4vec", Int4Vec), ("bitvec", BitVec)):
        info = TypeInfo.fetch(conn, name)
        if info is None:
            raise RuntimeError(f"type {name} not found: CREATE EXTENSION quantvec first")
        info.register(conn)
        _register(conn, info.oid, cls)


def _register(conn, oid: int, cls) -> None:
    text_out = (lambda v: v.bits.encode()) if cls is BitVec else (lambda v: v.to_text().encode())
    text_in = (lambda b: BitVec(bytes(b).decode())) if cls is BitVec else (lambda b: cls.from_text(bytes(b).decode()))

    class TextDumper(Dumper):
        def dump(self, obj):
            return text_out(obj)

    class BinaryDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj):
            return obj.to_binary()

    class TextLoader(Loader):
        def load(self, data):
            return text_in(data)

    class BinaryLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            return cls.from_binary(bytes(data))

    TextDumper.oid = BinaryDumper.oid = oid
    conn.adapters.register_dumper(cls, TextDumper)
    conn.adapters.register_dumper(cls, BinaryDumper)
    conn.adapters.register_loader(oid, TextLoader)
    conn.adapters.register_loader(oid, BinaryLoader)
