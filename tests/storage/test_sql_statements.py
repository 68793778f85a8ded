"""How the sql plug-in cuts a batch into SQLite's multi-row INSERT statements, and how SQLite binds their bytes."""

from __future__ import annotations

import sqlite3

import pytest

from backend.storage.sql.schema import make_engine
from backend.storage.sql.writer import statement_chunks


@pytest.mark.parametrize("count", [1, 2, 3, 7, 12, 300, 500, 1000, 5000, 8000, 8192, 9000, 20000])
def test_every_row_goes_into_a_chunk_once_and_in_order(count):
    rows = [(i,) for i in range(count)]

    chunks = list(statement_chunks(rows, 8192))

    assert list(dict.fromkeys(row for chunk in chunks for row in chunk)) == rows


@pytest.mark.parametrize("count", [1, 3, 7, 12, 300, 5000, 9000, 20000])
def test_chunk_sizes_are_powers_of_two_no_larger_than_the_largest(count):
    sizes = [len(chunk) for chunk in statement_chunks([(i,) for i in range(count)], 1024)]

    assert all(size & (size - 1) == 0 and size <= 1024 for size in sizes)


def test_a_remainder_close_to_a_size_is_padded_with_copies_of_its_last_row():
    rows = [(i,) for i in range(8000)]

    (chunk,) = statement_chunks(rows, 8192)

    assert chunk[:8000] == rows and chunk[8000:] == [(7999,)] * 192


def test_a_remainder_far_from_a_size_is_split_rather_than_padded():
    sizes = [len(chunk) for chunk in statement_chunks([(i,) for i in range(5000)], 8192)]

    assert sizes == [4096, 1024]  # 904 rows padded to 1,024 (an eighth wasted at most), not 5,000 to 8,192


def test_a_sqlite_engine_binds_bytes_as_the_same_blob_found_at_the_first_adapter_look_up(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/traces.db", 1, "test")
    payload = b"\x00span bytes\xff"
    try:
        with engine.connect() as connection:
            stored = connection.exec_driver_sql("SELECT ?, typeof(?)", (payload, payload)).one()
    finally:
        engine.dispose()

    assert sqlite3.adapters[(bytes, sqlite3.PrepareProtocol)] is bytes
    assert tuple(stored) == (payload, "blob")
