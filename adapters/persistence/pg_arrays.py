"""One-dimensional PostgreSQL arrays as binary query parameters, built without psycopg's
per-list type detection.

psycopg dumps a Python list by inspecting its elements to pick the array type, about
5 µs a list; the recorder sends ten lists with every insert. Here each list is encoded
once, in PostgreSQL's binary array format (`array_send`), with its type known in
advance. The dumpers are registered on psycopg's global adapters when this module is
imported, so connections opened afterwards know them. Imports psycopg and the standard
library only.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import ClassVar
from uuid import UUID

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_EMPTY = struct.Struct("!iiI")
"""Dimensions (0), has-nulls flag, element type."""
_HEADER = struct.Struct("!iiIii")
"""Dimensions (1), has-nulls flag, element type, length, lower bound (1)."""
_ONE = struct.Struct("!iiIiii")
"""The header of an array of one element, and that element's length."""
_INT8 = struct.Struct("!iq")
"""An int8 element: its length (8) and value."""
_LENGTH = struct.Struct("!i")


class Array:
    """An array parameter, encoded; its subclasses name the type."""

    __slots__ = ("data",)
    oid: ClassVar[int]
    element_oid: ClassVar[int]

    def __init__(self, data: bytes) -> None:
        self.data = data

    @classmethod
    def of_bytes(cls, items: Sequence[bytes]) -> Array:
        """The array of these elements, each already in its type's binary form."""
        if len(items) == 1:  # the common case: one event, one key
            return cls(_ONE.pack(1, 0, cls.element_oid, 1, 1, len(items[0])) + items[0])
        if not items:
            return cls(_EMPTY.pack(0, 0, cls.element_oid))
        parts = [_HEADER.pack(1, 0, cls.element_oid, len(items), 1)]
        for item in items:
            parts.append(_LENGTH.pack(len(item)))
            parts.append(item)
        return cls(b"".join(parts))


class BigintArray(Array):
    """`bigint[]`."""

    __slots__ = ()
    oid, element_oid = 1016, 20

    @classmethod
    def of(cls, items: Sequence[int]) -> Array:
        if not items:
            return cls(_EMPTY.pack(0, 0, cls.element_oid))
        header = _HEADER.pack(1, 0, cls.element_oid, len(items), 1)
        return cls(header + b"".join([_INT8.pack(8, item) for item in items]))


class UuidArray(Array):
    """`uuid[]`."""

    __slots__ = ()
    oid, element_oid = 2951, 2950

    @classmethod
    def of(cls, items: Sequence[UUID]) -> Array:
        return cls.of_bytes([item.bytes for item in items])


class TextArray(Array):
    """`text[]`."""

    __slots__ = ()
    oid, element_oid = 1009, 25

    @classmethod
    def of(cls, items: Sequence[str], encoding: str = "utf-8") -> Array:
        """`encoding`: the connection's client encoding (`conn.info.encoding`), in which
        the server reads binary text parameters."""
        return cls.of_bytes([item.encode(encoding) for item in items])


class ByteaArray(Array):
    """`bytea[]`."""

    __slots__ = ()
    oid, element_oid = 1001, 17

    @classmethod
    def of(cls, items: Sequence[bytes]) -> Array:
        return cls.of_bytes(items)


def _dumper(array: type[Array]) -> type[Dumper]:
    class ArrayDumper(Dumper):
        format = Format.BINARY
        oid = array.oid

        def dump(self, obj: Array) -> bytes:  # type: ignore[override]
            return obj.data

    ArrayDumper.__name__ = f"{array.__name__}Dumper"
    return ArrayDumper


for _array in (BigintArray, UuidArray, TextArray, ByteaArray):
    psycopg.adapters.register_dumper(_array, _dumper(_array))
