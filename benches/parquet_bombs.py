#!/usr/bin/env python3
"""Hostile Parquet files for issue 14 (needs pyarrow and pandas; e.g.
/work/main/benches/.venv/bin/python): a page bomb (2,000 rows of 1 MB in one
zstd page: 220 KB on disk, 2 GB decoded), 2M empty rows, and text columns of
every type the reader takes (categorical, dictionary, large_string, binary,
large_binary, string_view). Measured in benches/RESULTS.md (session 13):

    python benches/parquet_bombs.py DIR
    /usr/bin/time -f "%e s %M KB" neardup clean -q --memory-limit 64M --tmp-dir sp \\
        DIR/bigrows.parquet -o o/out.parquet --report o/r.json
"""
import os
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
# 2,000 rows of 1 MB each, zstd: pyarrow checks the page size every 1,024 values,
# so with data_page_size above 1 GB the column is one page of 2 GB.
row = ("lorem ipsum dolor sit amet " * 40000)[:1_000_000]
texts = pa.array([f"{i} " + row for i in range(2000)], pa.large_string()).cast(pa.string())
t = pa.table({"id": pa.array([f"r{i}" for i in range(2000)]), "text": texts})
pq.write_table(t, f"{d}/bigrows.parquet", compression="zstd", use_dictionary=False, data_page_size=1 << 30)
del t, texts
# 2M empty rows.
pq.write_table(pa.table({"text": pa.array([""] * 2_000_000)}), f"{d}/empty2m.parquet")
# Dictionary (pandas categorical), large_string, binary, large_binary text columns.
base = [f"document {i % 50} says " + "some words of its own " * (3 + i % 7) for i in range(400)]
df = pd.DataFrame({"id": [f"c{i}" for i in range(400)], "text": pd.Categorical(base)})
pq.write_table(pa.Table.from_pandas(df, preserve_index=False), f"{d}/categorical.parquet")
pq.write_table(pa.table({"id": [f"l{i}" for i in range(400)], "text": pa.array(base, pa.large_string())}), f"{d}/large.parquet")
pq.write_table(pa.table({"id": [f"b{i}" for i in range(400)], "text": pa.array([b.encode() for b in base], pa.binary())}), f"{d}/binary.parquet")
pq.write_table(pa.table({"id": [f"B{i}" for i in range(400)], "text": pa.array([b.encode() for b in base], pa.large_binary())}), f"{d}/lbinary.parquet")
pq.write_table(pa.table({"id": [f"d{i}" for i in range(400)], "text": pa.array(base).dictionary_encode()}), f"{d}/dict32.parquet")
pq.write_table(pa.table({"id": [f"v{i}" for i in range(400)], "text": pa.array(base, pa.string_view())}), f"{d}/view.parquet")
for f in sorted(os.listdir(d)):
    m = pq.ParquetFile(f"{d}/{f}")
    print(f, os.path.getsize(f"{d}/{f}"), m.schema_arrow.field("text").type)
