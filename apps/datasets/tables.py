"""How the typed and harmonised tables are stored.

The typed table of a parse is an intermediate, read whole by harmonisation and in parts by the pages: it is an
Arrow IPC file, uncompressed, in one record batch, so that writing it costs little more than the bytes and
reading it is a memory map (about 0.06 s to write 1,000,000 x 20 values, against 0.25 s as Parquet). Tables
parsed before are Parquet files and are read as such (the name's extension says which).

The harmonised table is the product (downloaded, read by the checks and the analyses): Parquet, with choices
made per column for the time of the write.

Parsing and harmonising write a whole table each; these choices took the write of a 1,000,000 x 20 table from
about 0.5 s to 0.25 s. Text is compressed (ids and labels shrink to a third); numbers are not (measured values
barely compress, and Snappy doubled the write); columns with few distinct values are dictionary-encoded (small
and fast), others are not (a million distinct ids would fill a dictionary only to fall back to plain values).
Min/max statistics are kept for numbers and dates and skipped for text, where nothing reads them.
"""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

TYPED_SUFFIX = ".arrow"
# How typed columns come to pandas: integers and yes/no with missing values, text backed by Arrow.
PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}

DICTIONARY_SAMPLE = 10_000
DICTIONARY_MAX_DISTINCT = 1_000


def _is_text(field: pa.Field) -> bool:
    return pa.types.is_string(field.type) or pa.types.is_large_string(field.type)


def _few_distinct(column: pa.ChunkedArray) -> bool:
    """Judged on the first rows: cheap, and a column whose values repeat there repeats them throughout."""
    head = column.slice(0, DICTIONARY_SAMPLE)
    return len(pc.unique(head)) <= DICTIONARY_MAX_DISTINCT


def _parquet_options(table: pa.Table) -> dict:
    fields = list(table.schema)
    return {
        "compression": {field.name: "snappy" if _is_text(field) else "none" for field in fields},
        "use_dictionary": [field.name for field in fields if _few_distinct(table.column(field.name))],
        "write_statistics": [field.name for field in fields if not _is_text(field)],
    }


def write_parquet(table: pa.Table, where) -> None:
    """Write `table` to `where` (a path or a binary file); the same table always gives the same bytes."""
    pq.write_table(table, where, **_parquet_options(table))


def parquet_writer(where, first: pa.Table) -> pq.ParquetWriter:
    """A writer for a table written in blocks, its choices made on the first block (a row group each)."""
    return pq.ParquetWriter(where, first.schema, **_parquet_options(first))


# ------------------------------------------------------------------------------------------- typed tables


# A typed table keeps, beside a column, the text of the values it could not read (a date in another form, a
# number under a declared decimal mark), under this prefix no column name of a file carries: rules flag those rows.
UNREAD_PREFIX = "\x00unread\x00"


def with_unread(table: pa.Table, unread: dict[str, pa.Array]) -> pa.Table:
    for name, values in unread.items():
        table = table.append_column(UNREAD_PREFIX + name, values)
    return table


def _visible(names: list[str]) -> list[str]:
    return [name for name in names if not name.startswith(UNREAD_PREFIX)]


def read_unread(path: Path | str, columns: list[str]) -> dict[str, pa.Array]:
    """For each of `columns` whose values were not all read, the text of those values (null elsewhere)."""
    if not is_typed_ipc(str(path)):
        return {}
    with pa.memory_map(str(path)) as source:
        table = ipc.open_file(source).read_all()
    return {name: table.column(UNREAD_PREFIX + name) for name in columns if UNREAD_PREFIX + name in table.schema.names}


def write_typed(table: pa.Table, where: Path | str) -> None:
    """Write a parse's typed table as an Arrow IPC file in one record batch; the same table, the same bytes."""
    table = table.combine_chunks()
    with pa.OSFile(str(where), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))


def is_typed_ipc(name: str) -> bool:
    return name.endswith(TYPED_SUFFIX)


def read_typed(path: Path | str, columns: list[str] | None = None) -> pa.Table:
    """The typed table, or only `columns` of it; an IPC file is memory-mapped, so unread columns cost nothing."""
    if not is_typed_ipc(str(path)):
        return pq.read_table(path, columns=columns, memory_map=True)
    with pa.memory_map(str(path)) as source:
        table = ipc.open_file(source).read_all()
    return table.select(columns if columns is not None else _visible(table.column_names))


def typed_column_names(path: Path | str) -> list[str]:
    if not is_typed_ipc(str(path)):
        return pq.read_schema(path).names
    with pa.memory_map(str(path)) as source:
        return _visible(ipc.open_file(source).schema.names)


def typed_head(path: Path | str, rows: int) -> pa.Table:
    """The first rows of the typed table, without reading the rest."""
    if not is_typed_ipc(str(path)):
        parquet = pq.ParquetFile(str(path), memory_map=True)
        batch = next(parquet.iter_batches(batch_size=max(rows, 1)), None)
        return pa.Table.from_batches([batch]) if batch is not None else parquet.schema_arrow.empty_table()
    return read_typed(path).slice(0, rows)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A typed table as pandas, one block per column: joining the columns into 2-D blocks would copy them all."""
    return table.to_pandas(types_mapper=PANDAS_TYPES.get, date_as_object=False, split_blocks=True)
