"""A hostile pass over the Python package (issue 14): each case runs in a
subprocess of its own (a crash is a return code, a hang a timeout) and must end
with a result or a Python exception of a documented kind, never a signal, a
PanicException or a hang.

    python benches/pyhostile.py [FILTER]   (with the package installed)
"""

import os
import subprocess
import sys
import tempfile
import time

PRE = r'''
import os, sys, json, threading, signal, time, pathlib
import neardup
D = pathlib.Path(sys.argv[1])
BODY = "A paragraph long enough to be judged on its own words, as any other."
RECS = [{"id": str(i), "text": BODY + (" more" if i % 2 else "")} for i in range(20)]
(D / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECS))
def ok(x):
    print("OK", repr(x)[:100])
def want(holds, what):
    # A wrong answer (bytes that differ, a file changed, a document lost) is
    # flagged as a crash is: exit 3.
    if not holds:
        print("WRONG", repr(what)[:300], flush=True)
        os._exit(3)
'''

CASES = {
    # option values of every type
    "threads=None": "ok(neardup.clean(RECS, threads=None))",
    "threads=True": "ok(neardup.clean(RECS, threads=True))",
    "threads=1.5": "ok(neardup.clean(RECS, threads=1.5))",
    "threads=2**64": "ok(neardup.clean(RECS, threads=2**64))",
    "threads=-1": "ok(neardup.clean(RECS, threads=-1))",
    "threads=10**9": "ok(neardup.clean(RECS, threads=10**9))",
    "threads='2'": "ok(neardup.clean(RECS, threads='2'))",
    "min_words=2**63": "ok(neardup.clean(RECS, min_words=2**63))",
    "min_words=2**64-1": "ok(neardup.clean(RECS, min_words=2**64-1))",
    "block_shingle=2**63": "ok(neardup.clean(RECS, block_shingle=2**63))",
    "block_shingle=0": "ok(neardup.clean(RECS, block_shingle=0))",
    "doc_shingle=2**40": "ok(neardup.clean(RECS, doc_shingle=2**40))",
    "doc_shingle=0": "ok(neardup.clean(RECS, doc_shingle=0))",
    "num_perm=2**40": "ok(neardup.clean(RECS, num_perm=2**40))",
    "num_perm=0": "ok(neardup.clean(RECS, num_perm=0))",
    "num_perm=1": "ok(neardup.clean(RECS, num_perm=1))",
    "bands=2**40,rows=2**40": "ok(neardup.clean(RECS, bands=2**40, rows=2**40))",
    "bands=0,rows=0": "ok(neardup.clean(RECS, bands=0, rows=0))",
    "bands=2**32,rows=2**32": "ok(neardup.clean(RECS, bands=2**32, rows=2**32))",
    "hamming=2**63": "ok(neardup.clean(RECS, method='simhash', hamming=2**63))",
    "max_gap=2**64-1": "ok(neardup.clean(RECS, max_gap=2**64-1))",
    "preview=2**64-1": "ok(neardup.clean(RECS, preview=2**64-1))",
    "seed=2**64-1": "ok(neardup.clean(RECS, seed=2**64-1))",
    "seed=2**64": "ok(neardup.clean(RECS, seed=2**64))",
    "threshold=nan": "ok(neardup.clean(RECS, threshold=float('nan')))",
    "threshold=inf": "ok(neardup.clean(RECS, threshold=float('inf')))",
    "threshold=-0.0": "ok(neardup.clean(RECS, threshold=-0.0))",
    "threshold='0.5'": "ok(neardup.clean(RECS, threshold='0.5'))",
    "block_threshold=nan": "ok(neardup.clean(RECS, block_threshold=float('nan')))",
    "block_threshold=1e308": "ok(neardup.clean(RECS, block_threshold=1e308))",
    "level=1": "ok(neardup.clean(RECS, level=1))",
    "level=''": "ok(neardup.clean(RECS, level=''))",
    "keep=''": "ok(neardup.clean(RECS, keep=''))",
    "keep='newest:'": "ok(neardup.clean(RECS, keep='newest:'))",
    "keep='\\x00'": "ok(neardup.clean(RECS, keep='\\x00'))",
    "text_field=''": "ok(neardup.clean(RECS, text_field=''))",
    "text_field=1": "ok(neardup.clean(RECS, text_field=1))",
    "text_field=surrogate": "ok(neardup.clean(RECS, text_field='\\ud800'))",
    "id_field=surrogate": "ok(neardup.clean(RECS, id_field='\\udcff'))",
    "name=surrogate": "ok(neardup.clean([{'id': 1, 'text': 5}], name='\\ud800'))",
    "name=1": "ok(neardup.clean(RECS, name=1))",
    "glob=1": "ok(neardup.clean(paths=[D], glob=1))",
    "glob=[1]": "ok(neardup.clean(paths=[D], glob=[1]))",
    "glob='['": "ok(neardup.clean(paths=[D], glob='['))",
    "glob=surrogate": "ok(neardup.clean(paths=[D], glob='\\udcff*'))",
    "unknown option": "ok(neardup.clean(RECS, no_such=1))",
    "unknown option scan out_dir": "ok(neardup.scan(RECS, out_dir=str(D/'o')))",
    "format=parquet records": "ok(neardup.clean(RECS, format='parquet'))",
    "format=text records": "ok(neardup.clean(RECS, format='text'))",
    "mmap=True records": "ok(neardup.clean(RECS, mmap=True))",
    "on_error=skip bad": "ok(neardup.clean([{'id':1,'text':1}, *RECS], on_error='skip'))",
    "max_dup_docs=nan": "ok(neardup.check(RECS, max_dup_docs=float('nan')))",
    "max_dup_docs=inf": "ok(neardup.check(RECS, max_dup_docs=float('inf')))",
    "max_dup_docs='x%'": "ok(neardup.check(RECS, max_dup_docs='x%'))",
    "max_dup_docs=-1": "ok(neardup.check(RECS, max_dup_docs=-1))",
    "max_dup_docs=[]": "ok(neardup.check(RECS, max_dup_docs=[]))",
    "max_dup_docs=1e400 str": "ok(neardup.check(RECS, max_dup_docs='1e400'))",
    "max_dup_docs=True": "ok(neardup.check(RECS, max_dup_docs=True))",
    "exit_zero=1": "ok(neardup.check(RECS, exit_zero=1))",
    # memory_limit
    "memory_limit='0'": "ok(neardup.clean(RECS, memory_limit='0'))",
    "memory_limit='1'": "ok(neardup.clean(RECS, memory_limit='1'))",
    "memory_limit=1": "ok(neardup.clean(RECS, memory_limit=1))",
    "memory_limit='1e9'": "ok(neardup.clean(RECS, memory_limit='1e9'))",
    "memory_limit=-1": "ok(neardup.clean(RECS, memory_limit=-1))",
    "memory_limit='1T'": "ok(neardup.clean(RECS, memory_limit='1T'))",
    "memory_limit='99999999999T'": "ok(neardup.clean(RECS, memory_limit='99999999999T'))",
    "memory_limit=2**64-1": "ok(neardup.clean(RECS, memory_limit=2**64-1))",
    "memory_limit=1.5": "ok(neardup.clean(RECS, memory_limit=1.5))",
    "memory_limit=True": "ok(neardup.clean(RECS, memory_limit=True))",
    "stream memory_limit='1'": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='1')])",
    "stream memory_limit='0'": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='0')])",
    "stream memory_limit=None": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit=None)])",
    "stream batch_size=None": "ok([len(b) for b in neardup.clean_stream([RECS], batch_size=None)])",
    "stream batch_size=1.5": "ok([len(b) for b in neardup.clean_stream([RECS], batch_size=1.5)])",
    "stream batch_size='2'": "ok([len(b) for b in neardup.clean_stream([RECS], batch_size='2')])",
    "stream batch_size=2**70": "ok([len(b) for b in neardup.clean_stream([RECS], batch_size=2**70)])",
    "stream bad option": "ok([len(b) for b in neardup.clean_stream([RECS], threads='x')])",
    "tmp_dir=file": "(D/'f').write_text('x'); ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='1', tmp_dir=str(D/'f'))])",
    "tmp_dir=missing": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='1', tmp_dir=str(D/'nope'/'x'))])",
    # paths
    "bytes path": "ok(neardup.clean(bytes(D/'in.jsonl')))",
    "paths=bytes": "ok(neardup.clean(paths=bytes(D/'in.jsonl')))",
    "paths=[bytes]": "ok(neardup.clean(paths=[bytes(D/'in.jsonl')]))",
    "path with NUL": "ok(neardup.clean(str(D/'in.jsonl') + '\\x00x'))",
    "paths=[NUL]": "ok(neardup.clean(paths=['a\\x00b']))",
    "out_dir NUL": "ok(neardup.clean(paths=[D/'in.jsonl'], out_dir='o\\x00'))",
    "index NUL": "ok(neardup.clean(RECS, index='i\\x00'))",
    "Index NUL": "ok(neardup.Index('i\\x00'))",
    "Index.build NUL": "ok(neardup.Index.build('i\\x00', RECS))",
    "surrogate path": "ok(neardup.clean(paths=[str(D) + '/\\udcff.jsonl']))",
    "surrogate path exists": "p = os.fsencode(str(D)) + b'/\\xff.jsonl'; open(p, 'wb').write((D/'in.jsonl').read_bytes()); ok(neardup.clean(paths=[os.fsdecode(p)]))",
    "surrogate out_dir": "p = os.fsencode(str(D)) + b'/\\xff'; ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=os.fsdecode(p)))",
    "fspath raises": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('boom')\nok(neardup.clean(P()))",
    "fspath returns int": "class P(os.PathLike):\n    def __fspath__(self): return 5\nok(neardup.clean(P()))",
    "fspath raises out_dir": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('boom')\nok(neardup.clean(paths=[D/'in.jsonl'], out_dir=P()))",
    "fspath raises index": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('boom')\nok(neardup.clean(RECS, index=P()))",
    "fspath raises Index": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('boom')\nok(neardup.Index(P()))",
    "paths=[]": "ok(neardup.clean(paths=[]))",
    "paths=dir empty": "(D/'e').mkdir(); ok(neardup.clean(paths=[D/'e']))",
    "paths=generator raises": "def g():\n    yield D/'in.jsonl'\n    raise RuntimeError('gen')\nok(neardup.clean(paths=g()))",
    "path=FIFO": "os.mkfifo(D/'fifo'); ok(neardup.clean(paths=[D/'fifo']))",
    "path=chardev": "os.mknod(D/'null', 0o600 | 0o020000, os.makedev(1, 3)); ok(neardup.clean(paths=[D/'null']))",
    "path=dir with fifo": "(D/'t').mkdir(); os.mkfifo(D/'t'/'f.jsonl'); ok(neardup.clean(paths=[D/'t']))",
    "path unreadable": "p = D/'u.jsonl'; p.write_text('{}'); p.chmod(0); ok(neardup.clean(paths=[p]))",
    "path is symlink loop": "os.symlink(D/'l1', D/'l2'); os.symlink(D/'l2', D/'l1'); ok(neardup.clean(paths=[D/'l1']))",
    # records
    "text int": "ok(neardup.clean([{'id': 1, 'text': 1}]))",
    "text None": "ok(neardup.clean([{'id': 1, 'text': None}]))",
    "text bytes": "ok(neardup.clean([{'id': 1, 'text': b'abc'}]))",
    "text list": "ok(neardup.clean([{'id': 1, 'text': ['a']}]))",
    "text str subclass": "class S(str): pass\nok(neardup.clean([{'id': 1, 'text': S(BODY)}, {'id': 2, 'text': S(BODY)}]).records)",
    "text surrogate": "ok(neardup.clean([*RECS, {'id': 1, 'text': 'a\\ud800b'}]))",
    "string record surrogate": "ok(neardup.clean([BODY, 'a\\ud800b']))",
    "key surrogate": "ok(neardup.clean([{'id': 1, 'text': BODY, '\\ud800': 1}]))",
    "text NUL": "ok(neardup.clean([{'id': 1, 'text': 'a\\x00' + BODY}]).records)",
    "text nan field": "ok(neardup.clean([*RECS, {'id': 1, 'text': BODY, 'score': float('nan')}]))",
    "text inf field": "ok(neardup.clean([{'id': 1, 'text': BODY, 'score': float('inf')}]))",
    "huge int field": "ok(neardup.clean([{'id': 10**400, 'text': BODY, 'n': 10**5000}]).records[0]['id'] == 10**400)",
    "id float": "ok(neardup.clean([{'id': 1.5, 'text': BODY}, {'id': 1e300, 'text': BODY}]).records)",
    "id None": "ok(neardup.clean([{'id': None, 'text': BODY}, {'id': None, 'text': BODY}]).records)",
    "id list": "ok(neardup.clean([{'id': [1], 'text': BODY}, {'id': {'a': 1}, 'text': BODY}]).records)",
    "id bool": "ok(neardup.clean([{'id': True, 'text': BODY}]).records)",
    "id bytes": "ok(neardup.clean([{'id': b'x', 'text': BODY}]))",
    "id object": "ok(neardup.clean([{'id': object(), 'text': BODY}]))",
    "id huge str": "ok(len(neardup.clean([{'id': 'x' * 10**7, 'text': BODY}]).records))",
    "key tuple": "ok(neardup.clean([{('a',): 1, 'text': BODY}]))",
    "key int": "ok(neardup.clean([{1: 1, 'text': BODY}]).records)",
    "deep nesting": "x = []\nfor _ in range(100000): x = [x]\nok(neardup.clean([{'id': 1, 'text': BODY, 'x': x}]))",
    "nest 200": "x = []\nfor _ in range(200): x = [x]\nok(neardup.clean([{'id': 1, 'text': BODY, 'x': x}]).status)",
    "recursive dict": "r = {'id': 1, 'text': BODY}; r['self'] = r; ok(neardup.clean([r]))",
    "record int": "ok(neardup.clean([1, 2]))",
    "records int": "ok(neardup.clean(5))",
    "records dict": "ok(neardup.clean({'id': 1, 'text': BODY}))",
    "records bytes": "ok(neardup.clean(b'abc'))",
    "records None-list": "ok(neardup.clean([None]))",
    "empty list": "ok(neardup.clean([]).report['summary'])",
    "empty stream": "ok(list(neardup.clean_stream([])))",
    "huge record 100MB": "t = ('word ' * 20_000_000); r = neardup.clean([{'id': 1, 'text': t}]); ok(len(r.output))",
    "1e6 tiny records": "r = neardup.clean(('w%d' % i for i in range(10**6)), threads=2); ok(r.report['summary']['documents'])",
    "generator raises": "def g():\n    yield from RECS\n    raise RuntimeError('midway')\nok(neardup.clean(g()))",
    "generator raises KeyboardInterrupt": "def g():\n    yield from RECS\n    raise KeyboardInterrupt\nok(neardup.clean(g()))",
    "generator raises SystemExit": "def g():\n    yield from RECS\n    raise SystemExit(3)\nok(neardup.clean(g()))",
    "generator raises StopIteration": "def g():\n    yield from RECS\n    raise StopIteration\nok(neardup.clean(g()))",
    "iterator __next__ raises StopIteration-like": "class I:\n    n = 0\n    def __iter__(self): return self\n    def __next__(self):\n        self.n += 1\n        if self.n > 3: raise StopIteration\n        return RECS[self.n]\nok(neardup.clean(I()).report['summary']['documents'])",
    "mutating iterator": "l = list(RECS)\ndef g():\n    for r in l:\n        l.append(dict(r))\n        if len(l) > 100: break\n        yield r\nok(neardup.clean(g()).report['summary']['documents'])",
    "infinite stream closed": "def g():\n    while True: yield RECS\ns = neardup.clean_stream(g(), memory_limit='1M')\nnext(s); s.close(); ok('closed')",
    "infinite gen of new records, break": "import itertools\ns = neardup.clean_stream(({'id': i, 'text': 'w%d x%d y%d z%d v%d u%d' % ((i,) * 6)} for i in itertools.count()), memory_limit='1M', batch_size=10)\nfor i, b in enumerate(s):\n    if i > 2: break\nok('broke')",
    "gen yields non-dict late": "def g():\n    yield from RECS\n    yield 5\nok(neardup.clean(g()))",
    # arrow
    "arrow null text": "import pyarrow as pa\nok(neardup.clean(pa.table({'id': [1, 2], 'text': [BODY, None]})))",
    "arrow int text": "import pyarrow as pa\nok(neardup.clean(pa.table({'id': [1, 2], 'text': [1, 2]})))",
    "arrow binary text": "import pyarrow as pa\nok(neardup.clean(pa.table({'id': [1, 2], 'text': pa.array([b'a', b'b'])})))",
    "arrow zero chunks": "import pyarrow as pa\nt = pa.table({'id': pa.chunked_array([], pa.int64()), 'text': pa.chunked_array([], pa.string())})\nok(neardup.clean(t).report['summary']['documents'])",
    "arrow dictionary": "import pyarrow as pa\nt = pa.table({'id': [1, 2], 'text': pa.array([BODY, BODY]).dictionary_encode()})\nok(len(neardup.clean(t).records))",
    "arrow large_string": "import pyarrow as pa\nt = pa.table({'id': [1, 2], 'text': pa.array([BODY, BODY], pa.large_string())})\nok(len(neardup.clean(t).records))",
    "arrow nested struct": "import pyarrow as pa\nt = pa.table({'id': [1], 'text': [BODY], 's': [{'a': {'b': [1, 2]}}]})\nok(neardup.clean(t).records)",
    "arrow struct text": "import pyarrow as pa\nt = pa.table({'id': [1], 'text': [{'a': 'x'}]})\nok(neardup.clean(t))",
    "arrow map column": "import pyarrow as pa\nt = pa.table({'id': [1], 'text': [BODY], 'm': pa.array([[('k', 1)]], pa.map_(pa.string(), pa.int64()))})\nok(neardup.clean(t).records)",
    "arrow float nan column": "import pyarrow as pa\nt = pa.table({'id': [1, 2], 'text': [BODY, BODY], 'f': [1.0, float('nan')]})\nok(neardup.clean(t))",
    "arrow duration column": "import pyarrow as pa, datetime\nt = pa.table({'id': [1], 'text': [BODY], 'd': pa.array([datetime.timedelta(1)])})\nok(neardup.clean(t))",
    "arrow binary column": "import pyarrow as pa\nt = pa.table({'id': [1], 'text': [BODY], 'b': pa.array([b'\\xff'])})\nok(neardup.clean(t))",
    "arrow tz timestamp": "import pyarrow as pa, datetime\nt = pa.table({'id': [1], 'text': [BODY], 'ts': pa.array([datetime.datetime(2020,1,1)], pa.timestamp('ns', 'UTC'))})\nok(neardup.clean(t).records)",
    "arrow ns timestamp nanos": "import pyarrow as pa\nt = pa.table({'id': [1], 'text': [BODY], 'ts': pa.array([1], pa.timestamp('ns'))})\nok(neardup.clean(t).records)",
    "arrow empty schema": "import pyarrow as pa\nok(neardup.clean(pa.table({})))",
    "arrow batches iter empty": "import pyarrow as pa\nok(neardup.clean(iter([])).report['summary']['documents'])",
    "arrow ChunkedArray": "import pyarrow as pa\nok(neardup.clean(pa.chunked_array([[BODY]])))",
    "arrow Array of str": "import pyarrow as pa\nok(neardup.clean(pa.array([BODY, BODY])).records)",
    "arrow stream of table": "import pyarrow as pa\nt = pa.table({'id': [1, 2], 'text': [BODY, BODY]})\nok([len(b) for b in neardup.clean_stream([t])])",
    # callbacks
    "progress raises": "def p(e): raise ValueError('cb')\nok(neardup.clean(RECS, progress=p))",
    "progress sys.exit": "def p(e): sys.exit(7)\nok(neardup.clean(RECS, progress=p))",
    "progress KeyboardInterrupt": "def p(e): raise KeyboardInterrupt\nok(neardup.clean(RECS, progress=p))",
    "progress re-entrant clean": "seen = []\ndef p(e):\n    if not seen:\n        seen.append(neardup.clean(RECS, threads=1).report['summary']['documents'])\nr = neardup.clean(RECS, progress=p, threads=2); ok((seen, r.report['summary']['documents']))",
    "progress re-entrant every event": "seen = []\ndef p(e):\n    seen.append(neardup.scan(RECS[:2], threads=1).status)\nr = neardup.clean(RECS, progress=p, threads=2); ok(len(seen))",
    "progress re-entrant index update": "idx = neardup.Index.build(str(D/'i.ndx'), RECS)\ndef p(e):\n    if e[0] == 'finish': idx.update(RECS[:2])\nok(idx.update(RECS[2:], progress=p).status)",
    "progress re-entrant failing": "def p(e):\n    try: neardup.clean([{'id':1,'text':1}])\n    except neardup.NeardupError: pass\nok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'o'), progress=p).status); print(sorted(os.listdir(D/'o')))",
    "progress slow": "def p(e): time.sleep(0.05)\nok(neardup.clean(RECS, progress=p).status)",
    "progress wrong arity": "def p(): pass\nok(neardup.clean(RECS, progress=p))",
    "progress=1": "ok(neardup.clean(RECS, progress=1))",
    "progress=tqdm": "ok(neardup.clean(RECS, progress=True))",
    "progress releases stream": "holder = {}\ndef p(e):\n    holder.pop('s', None)\nholder['s'] = neardup.clean_stream([RECS], progress=p)\nit = iter(holder['s'])\nok([len(b) for b in it])",
    "stream progress raises": "def p(e): raise ValueError('cb')\nok([len(b) for b in neardup.clean_stream([RECS], progress=p)])",
    "stream progress closes stream": "h = {}\nready = threading.Event()\ndef p(e):\n    ready.wait()\n    h['s'].close()\nh['s'] = neardup.clean_stream([RECS], progress=p)\nready.set()\nok([len(b) for b in h['s']])",
    "stream generator closes stream": "h = {}\nready = threading.Event()\ndef g():\n    yield RECS\n    ready.wait()\n    h['s'].close()\n    yield RECS\nh['s'] = neardup.clean_stream(g())\nready.set()\nok([len(b) for b in h['s']])",
    "stream records drop last ref": "h = {}\nready = threading.Event()\ndef g():\n    yield RECS\n    ready.wait()\n    h.pop('s')\n    yield RECS\nh['s'] = neardup.clean_stream(g())\nready.set(); time.sleep(1)\nok('dropped')",
    "stream in generator re-entrant stream": "def g():\n    yield RECS\n    yield [r for b in neardup.clean_stream([RECS]) for r in b]\nok([len(b) for b in neardup.clean_stream(g())])",
    # threads
    "many threads at once": "rs = []\ndef f():\n    rs.append(neardup.clean(RECS, threads=2).report['summary']['dropped_documents'])\nts = [threading.Thread(target=f) for _ in range(16)]\n[t.start() for t in ts]; [t.join() for t in ts]; ok(sorted(set(rs)) and len(rs))",
    "same index update two threads": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\nerrs = []\ndef f(k):\n    try: neardup.Index(str(D/'i.ndx')).update([{'id': f'{k}-{i}', 'text': BODY + str(k) + ' ' + str(i)} for i in range(50)])\n    except Exception as e: errs.append(repr(e)[:80])\nts = [threading.Thread(target=f, args=(k,)) for k in range(4)]\n[t.start() for t in ts]; [t.join() for t in ts]; ok((neardup.Index(str(D/'i.ndx')).documents, errs))",
    "same out_dir two threads": "errs = []\ndef f(k):\n    try: neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'o'))\n    except Exception as e: errs.append(repr(e)[:80])\nts = [threading.Thread(target=f, args=(k,)) for k in range(4)]\n[t.start() for t in ts]; [t.join() for t in ts]; ok((sorted(os.listdir(D/'o')), errs))",
    "stream from other thread": "s = neardup.clean_stream([RECS]*5)\nout = []\nt = threading.Thread(target=lambda: out.extend(len(b) for b in s)); t.start(); t.join(); ok(out)",
    "stream iterated two threads": "s = neardup.clean_stream([RECS]*50, batch_size=1)\nout = []\ndef f():\n    try:\n        for b in s: out.append(len(b))\n    except Exception as e: out.append(repr(e))\nts = [threading.Thread(target=f) for _ in range(3)]\n[t.start() for t in ts]; [t.join(timeout=30) for t in ts]; ok((len(out), [t.is_alive() for t in ts]))",
    "exit while clean runs in daemon thread": "def g():\n    while True:\n        yield RECS\nt = threading.Thread(target=lambda: neardup.clean(g()), daemon=True); t.start(); time.sleep(1); ok('exit')",
    "exit while clean runs in daemon thread progress": "def p(e): time.sleep(0.001)\nbig = RECS * 2000\nt = threading.Thread(target=lambda: neardup.clean(big, progress=p), daemon=True); t.start(); time.sleep(0.3); ok('exit')",
    "exit while index build in daemon": "def g():\n    while True:\n        yield RECS\nt = threading.Thread(target=lambda: neardup.Index.build(str(D/'x.ndx'), g()), daemon=True); t.start(); time.sleep(1); ok('exit')",
    "sys.exit while stream runs": "def g():\n    while True: yield RECS\ns = neardup.clean_stream(g(), memory_limit='1M'); next(s); sys.exit(0)",
    "os._exit-free fork with stream": "s = neardup.clean_stream([RECS]*100, memory_limit='1M'); next(s)\npid = os.fork()\nif pid == 0:\n    r = neardup.clean(RECS, threads=2)\n    print('child', r.status, flush=True)\n    os._exit(0)\n_, st = os.waitpid(pid, 0); ok(('parent', st))",
    "fork child uses stream": "s = neardup.clean_stream([RECS]*100, memory_limit='1M'); next(s)\npid = os.fork()\nif pid == 0:\n    import signal; signal.alarm(10)\n    try: print('child', len(list(s)), flush=True)\n    except Exception as e: print('child', repr(e), flush=True)\n    os._exit(0)\n_, st = os.waitpid(pid, 0); ok(('parent', st))",
    "fork child exits with stream": "s = neardup.clean_stream([RECS]*100, memory_limit='1M'); next(s)\npid = os.fork()\nif pid == 0:\n    import signal; signal.alarm(10)\n    sys.exit(0)\n_, st = os.waitpid(pid, 0); ok(('parent', st))",
    "fork during run from other thread": "def g():\n    for _ in range(200): yield RECS\nt = threading.Thread(target=lambda: neardup.clean(g())); t.start(); time.sleep(0.05)\npid = os.fork()\nif pid == 0:\n    import signal; signal.alarm(10)\n    r = neardup.clean(RECS, threads=2); print('child', r.status, flush=True); os._exit(0)\n_, st = os.waitpid(pid, 0); t.join(); ok(('parent', st))",
    "SIGTERM handler raising during run": "def h(*a): raise RuntimeError('term')\nsignal.signal(signal.SIGTERM, h)\nbig = RECS * 3000\nthreading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()\ntry:\n    ok(neardup.clean(big, threads=2).status)\nexcept RuntimeError as e: ok(e)",
    "SIGINT during out_dir run": "big = RECS * 5000\n(D/'big.jsonl').write_text(''.join(json.dumps(r) + '\\n' for r in big))\nthreading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\ntry: ok(neardup.clean(paths=[D/'big.jsonl'], out_dir=str(D/'o')).status)\nexcept KeyboardInterrupt: ok(('KI', os.path.exists(D/'o')))",
    # index
    "Index on dir": "ok(neardup.Index(str(D)))",
    "Index on FIFO": "os.mkfifo(D/'f.ndx'); ok(neardup.Index(str(D/'f.ndx')))",
    "index= FIFO run": "os.mkfifo(D/'f.ndx'); ok(neardup.clean(RECS, index=str(D/'f.ndx')))",
    "index= FIFO update": "os.mkfifo(D/'f.ndx'); ok(neardup.clean(RECS, index=str(D/'f.ndx'), update=True))",
    "Index.build over FIFO": "os.mkfifo(D/'f.ndx'); ok(neardup.Index.build(str(D/'f.ndx'), RECS))",
    "merge FIFO": "os.mkfifo(D/'f.ndx'); a = neardup.Index.build(str(D/'a.ndx'), RECS); ok(a.merge(str(D/'f.ndx')))",
    "merge output FIFO": "os.mkfifo(D/'f.ndx'); a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, str(D/'f.ndx')))",
    "Index on chardev": "os.mknod(D/'null', 0o600 | 0o020000, os.makedev(1, 3)); ok(neardup.Index(str(D/'null')))",
    "index= chardev update": "os.mknod(D/'null', 0o600 | 0o020000, os.makedev(1, 3)); ok(neardup.clean(RECS, index=str(D/'null'), update=True))",
    "Index truncated": "neardup.Index.build(str(D/'i.ndx'), RECS); b = (D/'i.ndx').read_bytes(); (D/'i.ndx').write_bytes(b[:len(b)//2]); ok(neardup.Index(str(D/'i.ndx')))",
    "Index truncated clean": "neardup.Index.build(str(D/'i.ndx'), RECS); b = (D/'i.ndx').read_bytes(); (D/'i.ndx').write_bytes(b[:len(b)//2]); ok(neardup.clean(RECS, index=str(D/'i.ndx')))",
    "Index corrupt verify": "neardup.Index.build(str(D/'i.ndx'), RECS); b = bytearray((D/'i.ndx').read_bytes()); b[len(b)//2] ^= 0xff; (D/'i.ndx').write_bytes(bytes(b)); ok(neardup.Index(str(D/'i.ndx')).stats(verify=True))",
    "Index corrupt clean update": "neardup.Index.build(str(D/'i.ndx'), RECS); b = bytearray((D/'i.ndx').read_bytes()); b[len(b)//2] ^= 0xff; (D/'i.ndx').write_bytes(bytes(b)); ok(neardup.clean(RECS, index=str(D/'i.ndx'), update=True))",
    "Index empty file": "(D/'i.ndx').write_bytes(b''); ok(neardup.Index(str(D/'i.ndx')))",
    "Index garbage": "(D/'i.ndx').write_bytes(os.urandom(4096)); ok(neardup.Index(str(D/'i.ndx')))",
    "merge into itself": "a = neardup.Index.build(str(D/'a.ndx'), RECS); ok(a.merge(a))",
    "merge into itself via symlink": "a = neardup.Index.build(str(D/'a.ndx'), RECS); os.symlink(D/'a.ndx', D/'l.ndx'); ok(a.merge(str(D/'l.ndx')))",
    "merge into itself via hardlink": "a = neardup.Index.build(str(D/'a.ndx'), RECS); os.link(D/'a.ndx', D/'h.ndx'); ok(a.merge(str(D/'h.ndx')))",
    "merge output is user file": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:2]); (D/'u.txt').write_text('mine'); \ntry: ok(a.merge(b, str(D/'u.txt')))\nfinally: print('user file', (D/'u.txt').read_text()[:10])",
    "merge output is dir": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:2]); ok(a.merge(b, str(D)))",
    "build over user file": "(D/'u.txt').write_text('mine'); \ntry: ok(neardup.Index.build(str(D/'u.txt'), RECS))\nfinally: print('user file', (D/'u.txt').read_text()[:10])",
    "build over dir": "ok(neardup.Index.build(str(D), RECS))",
    "build over input": "\ntry: ok(neardup.Index.build(str(D/'in.jsonl'), paths=[D/'in.jsonl']))\nfinally: print('input', (D/'in.jsonl').read_text()[:10])",
    "build bad records": "(D/'i.ndx').write_bytes(b'');\ntry: ok(neardup.Index.build(str(D/'new.ndx'), [{'id': 1, 'text': 1}]))\nfinally: print('exists', (D/'new.ndx').exists())",
    "update over user file": "(D/'u.txt').write_text('mine'); \ntry: ok(neardup.clean(RECS, index=str(D/'u.txt'), update=True))\nfinally: print('user file', (D/'u.txt').read_text()[:10])",
    "update read-only index": "neardup.Index.build(str(D/'i.ndx'), RECS[:2]); os.chmod(D/'i.ndx', 0o444); b = (D/'i.ndx').read_bytes(); \ntry: ok(neardup.Index(str(D/'i.ndx')).update(RECS))\nfinally: print('same', (D/'i.ndx').read_bytes() == b)",
    "update index in read-only dir": "(D/'r').mkdir(); neardup.Index.build(str(D/'r'/'i.ndx'), RECS[:2]); os.chmod(D/'r', 0o555); b = (D/'r'/'i.ndx').read_bytes(); \ntry: ok(neardup.Index(str(D/'r'/'i.ndx')).update(RECS))\nfinally: print('same', (D/'r'/'i.ndx').read_bytes() == b)",
    "Index.create then stats": "ok(neardup.Index.create(str(D/'n.ndx')).documents)",
    "Index.create update bad records": "i = neardup.Index.create(str(D/'n.ndx'))\ntry: ok(i.update([{'id': 1, 'text': 1}]))\nfinally: print('exists', sorted(os.listdir(D)))",
    "Index(None)": "ok(neardup.Index(None))",
    "Index(5)": "ok(neardup.Index(5))",
    "index stats verify=str": "neardup.Index.build(str(D/'i.ndx'), RECS); ok(neardup.Index(str(D/'i.ndx')).stats(verify='yes'))",
    "reference=index": "neardup.Index.build(str(D/'i.ndx'), RECS); ok(neardup.clean(RECS, reference=str(D/'i.ndx')))",
    "reference=FIFO": "os.mkfifo(D/'f'); ok(neardup.clean(RECS, reference=str(D/'f')))",
    "reference=dir": "ok(neardup.clean(RECS, reference=str(D)))",
    # out_dir
    "out_dir = input dir": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); ok(neardup.clean(paths=[D/'t'], out_dir=str(D/'t'))); print(sorted(os.listdir(D/'t')))",
    "out_dir inside input dir": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); ok(neardup.clean(paths=[D/'t'], out_dir=str(D/'t'/'o'))); print(sorted(os.listdir(D/'t')))",
    "out_dir is file": "(D/'f').write_text('mine'); \ntry: ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'f')))\nfinally: print((D/'f').read_text())",
    "out_dir read-only": "(D/'r').mkdir(); os.chmod(D/'r', 0o555); ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'r'/'o')))",
    "out_dir existing read-only": "(D/'r').mkdir(); os.chmod(D/'r', 0o555); ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'r')))",
    "out_dir bad input second": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); (D/'t'/'b.jsonl').write_text('{bad\\n'); \ntry: ok(neardup.clean(paths=[D/'t'], out_dir=str(D/'o')))\nfinally: print('o exists', (D/'o').exists())",
    "out_dir = input file": "\ntry: ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'in.jsonl')))\nfinally: print((D/'in.jsonl').read_text()[:5])",
    "out_dir in parent of input": "ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D))); print(sorted(os.listdir(D)), (D/'in.jsonl').read_text()[:5])",
    "out_dir full tmpfs": "import subprocess\n(D/'m').mkdir()\nr = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(D/'m')])\nif r.returncode: print('SKIP no mount'); sys.exit(0)\ntry:\n    big = [{'id': i, 'text': 'w%d x%d y%d z%d v%d u%d' % ((i,) * 6)} for i in range(20000)]\n    (D/'big.jsonl').write_text(''.join(json.dumps(r) + '\\n' for r in big))\n    try: ok(neardup.clean(paths=[D/'big.jsonl'], out_dir=str(D/'m'/'o')))\n    finally: print('left', os.listdir(D/'m'))\nfinally: subprocess.run(['umount', str(D/'m')])",
    "index on full tmpfs": "import subprocess\n(D/'m').mkdir()\nr = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(D/'m')])\nif r.returncode: print('SKIP no mount'); sys.exit(0)\ntry:\n    big = [dict(r, id=i, text=r['text'] + ' %d' % i) for i, r in enumerate(RECS * 300)]\n    try: ok(neardup.Index.build(str(D/'m'/'i.ndx'), big))\n    finally: print('left', os.listdir(D/'m'))\nfinally: subprocess.run(['umount', str(D/'m')])",
    "tmp_dir full tmpfs": "import subprocess\n(D/'m').mkdir()\nr = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(D/'m')])\nif r.returncode: print('SKIP no mount'); sys.exit(0)\ntry:\n    big = [dict(r, id=i, text=r['text'] + ' %d' % i) for i, r in enumerate(RECS * 300)]\n    try: ok([len(b) for b in neardup.clean_stream(big, memory_limit='64K', tmp_dir=str(D/'m'))])\n    finally: print('left', os.listdir(D/'m'))\nfinally: subprocess.run(['umount', str(D/'m')])",
    # session 34: arguments not tried before, documents, threads, Ctrl-C, fork, an
    # index shared with the CLI, outputs aimed at inputs
    # s34: wrong types and values, arguments not tried before
    "s34-Index(pathlib)": "neardup.Index.build(D/'i.ndx', RECS); i = neardup.Index(D/'i.ndx'); want(i.documents == 20, 'docs'); ok(i)",
    "s34-Index(bytes)": "neardup.Index.build(str(D/'i.ndx'), RECS); ok(neardup.Index(bytes(D/'i.ndx')))",
    "s34-index=bytes": "neardup.Index.build(str(D/'i.ndx'), RECS); ok(neardup.clean(RECS, index=bytes(D/'i.ndx')))",
    "s34-index=pathlib update": "i = neardup.clean(RECS, index=D/'i.ndx', update=True); want(neardup.Index(D/'i.ndx').documents == 20, 'docs'); ok(i)",
    "s34-out_dir=pathlib": "r = neardup.clean(paths=[D/'in.jsonl'], out_dir=D/'o'); want(os.listdir(D/'o') == ['in.jsonl'], 'o'); ok(r)",
    "s34-tmp_dir=bytes": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='1', tmp_dir=bytes(D))])",
    "s34-merge other=None": "a = neardup.Index.build(str(D/'a.ndx'), RECS); ok(a.merge(None))",
    "s34-merge other=5": "a = neardup.Index.build(str(D/'a.ndx'), RECS); ok(a.merge(5))",
    "s34-merge memory_limit=1.5": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, memory_limit=1.5))",
    "s34-merge memory_limit=nan str": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, memory_limit='nan'))",
    "s34-merge memory_limit=2**70": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, memory_limit=2**70))",
    "s34-merge memory_limit surrogate": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, memory_limit='1\\ud800G'))",
    "s34-merge tmp_dir=5": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); ok(a.merge(b, tmp_dir=5))",
    "s34-merge output=other": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), [{'id': 'x', 'text': 'other words entirely here for the index'}]); m = a.merge(b, str(D/'b.ndx')); want(m.documents == 21, m.documents); ok(m)",
    "s34-merge output=input jsonl": "a = neardup.Index.build(str(D/'a.ndx'), RECS); b = neardup.Index.build(str(D/'b.ndx'), RECS[:3]); before = (D/'in.jsonl').read_bytes()\ntry: ok(a.merge(b, D/'in.jsonl'))\nfinally: want((D/'in.jsonl').read_bytes() == before, 'input changed')",
    "s34-stats verify=None": "neardup.Index.build(str(D/'i.ndx'), RECS); ok(neardup.Index(str(D/'i.ndx')).stats(verify=None))",
    "s34-glob tuple": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); (D/'t'/'b.txt').write_text('x'); r = neardup.scan(paths=[D/'t'], glob=('*.jsonl',)); want(len(r.report['inputs']) == 1, r.report['inputs']); ok(r)",
    "s34-glob generator": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); ok(neardup.scan(paths=[D/'t'], glob=(g for g in ['*.jsonl'])))",
    "s34-glob set": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); ok(neardup.scan(paths=[D/'t'], glob={'*.jsonl'}))",
    "s34-glob bytes": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); ok(neardup.scan(paths=[D/'t'], glob=b'*.jsonl'))",
    "s34-text_field=bytes": "ok(neardup.clean(RECS, text_field=b'text'))",
    "s34-keep=bytes": "ok(neardup.clean(RECS, keep=b'first'))",
    "s34-threshold numpy nan": "import numpy as np\nok(neardup.clean(RECS, threshold=np.float64('nan')))",
    "s34-seed=-1": "ok(neardup.clean(RECS, seed=-1))",
    "s34-preview=-1": "ok(neardup.clean(RECS, preview=-1))",
    "s34-records bytes items": "ok(neardup.clean([b'abc', b'def']))",
    "s34-records range": "ok(neardup.clean(range(3)))",
    "s34-records set of str": "r = neardup.clean({BODY, BODY + ' x'}); ok(r)",
    "s34-records mappingproxy": "import types\nok(neardup.clean([types.MappingProxyType({'id': 1, 'text': BODY})]))",
    "s34-records tuple items": "r = neardup.clean([(BODY, BODY)]); want(len(r.records) == 1, r.records); ok(r.records)",
    "s34-records generator of Paths": "ok(neardup.clean(p for p in [D/'in.jsonl']))",
    "s34-records str text not path": "ok(neardup.clean(BODY))",
    "s34-paths=dict": "ok(neardup.clean(paths={'a': 1}))",
    "s34-paths generator str raises": "def g():\n    yield str(D/'in.jsonl')\n    raise ValueError('gen')\nok(neardup.clean(paths=g()))",
    "s34-stream generator raises midway, no tmp left": "(D/'tmp').mkdir()\ndef g():\n    for i in range(50):\n        yield [{'id': f'{i}-{j}', 'text': f'w{i} x{j} y{i} z{j} v{i} u{j} t{i}'} for j in range(200)]\n    raise RuntimeError('midway')\ntry: ok([len(b) for b in neardup.clean_stream(g(), memory_limit='64K', tmp_dir=D/'tmp', index=str(D/'i.ndx'), update=True)])\nexcept RuntimeError as e: want(os.listdir(D/'tmp') == [] and not (D/'i.ndx').exists(), (os.listdir(D/'tmp'), os.listdir(D))); ok(e)",
    # documents
    "s34-text empty and blank": "r = neardup.clean([{'id': i, 'text': t} for i, t in enumerate(['', ' ', '\\n\\n', '\\t', BODY, BODY])]); ok([x['id'] for x in r.records])",
    "s34-text all NUL 10MB": "r = neardup.clean([{'id': 1, 'text': '\\x00' * 10_000_000}, {'id': 2, 'text': '\\x00' * 10_000_000}]); ok((len(r.records), r.report['summary']['documents']))",
    "s34-text line separators same as CLI": "import subprocess\nrecs = [{'id': i, 'text': BODY + s + BODY.upper()} for i, s in enumerate(['\\u2028', '\\u2029', '\\x85', '\\r', '\\r\\n', '\\x0b', '\\x0c', '\\x1c'])] * 2\n(D/'s.jsonl').write_bytes(b''.join(json.dumps(r, ensure_ascii=False).encode() + b'\\n' for r in recs))\nr = neardup.clean(recs)\nr2 = neardup.clean(paths=[D/'s.jsonl'])\nwant(r.output == r2.output, 'records vs path')\ncli = os.environ.get('NEARDUP_BIN')\nif cli:\n    o = subprocess.run([cli, 'clean', str(D/'s.jsonl'), '-q'], capture_output=True).stdout\n    want(o == r.output, 'cli')\nok(len(r.records))",
    "s34-text surrogate pair as two code points": "ok(neardup.clean([{'id': 1, 'text': BODY + '\\ud83d\\ude00'}]))",
    "s34-text fsdecoded bytes": "ok(neardup.clean([{'id': 1, 'text': os.fsdecode(b'caf\\xe9 ' * 10)}]))",
    "s34-text 1e5 empty records": "r = neardup.clean(['' for _ in range(100000)]); ok(r.report['summary']['documents'])",
    "s34-missing text field": "ok(neardup.clean([{'id': 1, 'text': BODY}, {'id': 2}]))",
    "s34-id NUL": "r = neardup.clean([{'id': 'a\\x00b', 'text': BODY}, {'id': 'c\\x00', 'text': BODY}], annotate=True); ok(r.records)",
    "s34-keep newest mixed types": "r = neardup.clean([{'id': i, 'text': BODY, 'ts': v} for i, v in enumerate([1, '2', None, 3.5, [1], True])], keep='newest:ts'); ok([x['id'] for x in r.records])",
    "s34-memory_limit tiny huge record": "ok(neardup.clean([{'id': 1, 'text': 'word ' * 2_000_000}], memory_limit='1M'))",
    # threads, same bytes
    "s34-threads same bytes as serial": "big = [{'id': i, 'text': BODY + ' ' + ' '.join('w%d' % ((i * 7 + k) % 97) for k in range(30))} for i in range(3000)]\n(D/'big.jsonl').write_text(''.join(json.dumps(r) + '\\n' for r in big))\nserial = neardup.clean(paths=[D/'big.jsonl'], threads=1)\nouts = []\ndef f(t):\n    outs.append(neardup.clean(paths=[D/'big.jsonl'], threads=t))\nts = [threading.Thread(target=f, args=(1 + k % 3,)) for k in range(8)]\n[t.start() for t in ts]; [t.join() for t in ts]\nwant(all(o.output == serial.output and o.report_json == serial.report_json for o in outs), 'bytes differ')\nok(len(serial.output))",
    "s34-GIL released during a run": "big = [{'id': i, 'text': BODY + ' ' + ' '.join('w%d' % ((i * 7 + k) % 997) for k in range(60))} for i in range(20000)]\n(D/'big.jsonl').write_text(''.join(json.dumps(r) + '\\n' for r in big))\nn = [0]; stop = [False]\ndef count():\n    while not stop[0]: n[0] += 1\nt = threading.Thread(target=count); t.start()\nt0 = time.time(); r = neardup.clean(paths=[D/'big.jsonl'], threads=1); dt = time.time() - t0\nstop[0] = True; t.join()\nprint('run', round(dt, 2), 's, counted', n[0])\nwant(n[0] > 100000 * dt, 'counter starved')\nok(r)",
    # Ctrl-C
    "s34-SIGINT during long paths run": "big = [{'id': i, 'text': BODY + ' ' + ' '.join('w%d' % ((i * 7 + k) % 997) for k in range(60))} for i in range(60000)]\n(D/'big.jsonl').write_text(''.join(json.dumps(r) + '\\n' for r in big))\nt0 = time.time(); neardup.scan(paths=[D/'big.jsonl'], threads=1); full = time.time() - t0\nthreading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\nt0 = time.time()\ntry: neardup.clean(paths=[D/'big.jsonl'], out_dir=str(D/'o'), threads=1); print('no KI')\nexcept KeyboardInterrupt: print('KI after', round(time.time() - t0, 2), 'of', round(full, 2)); want(not (D/'o').exists(), 'o left')\nok('done')",
    "s34-SIGINT during stream read": "def g():\n    for i in range(10**6): yield [{'id': f'{i}-{j}', 'text': f'w{i} x{j} y{i} z{j} v{i} u{j} t{i}'} for j in range(100)]\ns = neardup.clean_stream(g(), memory_limit='1M', tmp_dir=str(D))\nthreading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\ntry:\n    for b in s: pass\nexcept KeyboardInterrupt: print('KI')\ns.close(); ok(sorted(os.listdir(D)))",
    "s34-call after KeyboardInterrupt same bytes": "a = neardup.clean(RECS)\ndef g():\n    yield from RECS\n    raise KeyboardInterrupt\ntry: neardup.clean(g())\nexcept KeyboardInterrupt: pass\nb = neardup.clean(RECS); want(a.output == b.output and a.report_json == b.report_json, 'differ'); ok(b)",
    "s34-call after errors same bytes": "a = neardup.clean(RECS, threads=2)\nfor bad in ([{'id': 1, 'text': 1}], [{'id': 1, 'text': 'a\\ud800'}]):\n    try: neardup.clean(bad)\n    except neardup.NeardupError: pass\ntry: neardup.clean(paths=[D/'nope'])\nexcept neardup.NeardupOSError: pass\nb = neardup.clean(RECS, threads=2); want(a.output == b.output and a.report_json == b.report_json, 'differ'); ok(b)",
    # fork
    "s34-multiprocessing fork pool after a run": "import multiprocessing as mp\nfirst = neardup.clean(RECS, threads=2)\ndef f(k):\n    return neardup.clean(RECS, threads=2).output\nwith mp.get_context('fork').Pool(2) as p:\n    outs = p.map(f, range(4), chunksize=1)\nwant(all(o == first.output for o in outs), 'differ'); ok(len(outs))",
    "s34-multiprocessing spawn pool": "import multiprocessing as mp\nfirst = neardup.clean(RECS, threads=2)\nwith mp.get_context('spawn').Pool(2) as p:\n    outs = p.map(neardup.scan, [RECS] * 2)\nwant(all(o.report_json == neardup.scan(RECS).report_json for o in outs), 'differ'); ok(len(outs))",
    "s34-fork while another thread updates index": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\ndef g():\n    for i in range(100): yield [{'id': f'p{i}-{j}', 'text': BODY + f' p{i} {j}'} for j in range(20)]\nt = threading.Thread(target=lambda: neardup.Index(str(D/'i.ndx')).update(g())); t.start(); time.sleep(0.2)\npid = os.fork()\nif pid == 0:\n    signal.alarm(30)\n    r = neardup.Index(str(D/'i.ndx')).update([{'id': 'child', 'text': BODY + ' child'}]); print('child', r.status, flush=True); os._exit(0)\n_, st = os.waitpid(pid, 0); t.join(); want(st == 0, st); ok(neardup.Index(str(D/'i.ndx')).documents)",
    # an index shared with the CLI
    "s34-index shared with CLI updates": "import subprocess\ncli = os.environ['NEARDUP_BIN']\nneardup.Index.build(str(D/'i.ndx'), RECS[:2])\nfor k in range(3): (D/f'c{k}.jsonl').write_text(''.join(json.dumps({'id': f'c{k}-{i}', 'text': BODY + f' cli {k} {i}'}) + '\\n' for i in range(300)))\nps = [subprocess.Popen([cli, 'scan', str(D/f'c{k}.jsonl'), '--index', str(D/'i.ndx'), '--update', '-q']) for k in range(3)]\nerrs = []\ndef f(k):\n    try: neardup.Index(str(D/'i.ndx')).update([{'id': f'p{k}-{i}', 'text': BODY + f' py {k} {i}'} for i in range(300)])\n    except Exception as e: errs.append(repr(e))\nts = [threading.Thread(target=f, args=(k,)) for k in range(3)]\n[t.start() for t in ts]; [t.join() for t in ts]; rcs = [p.wait() for p in ps]\nn = neardup.Index(str(D/'i.ndx')).documents\nwant(n == 2 + 1800 and not errs and rcs == [0, 0, 0], (n, errs, rcs)); ok(n)",
    "s34-CLI waits for a Python stream's index": "import subprocess\ncli = os.environ['NEARDUP_BIN']\nneardup.Index.build(str(D/'i.ndx'), RECS[:2])\ns = neardup.clean_stream([[{'id': f'p{i}', 'text': f'stream record {i} with words w{i} x{i} y{i} z{i} of its own'}] for i in range(50)], index=str(D/'i.ndx'), update=True, batch_size=1)\nnext(s)\np = subprocess.Popen([cli, 'scan', str(D/'in.jsonl'), '--index', str(D/'i.ndx'), '--update', '-q'], stderr=subprocess.PIPE)\ntime.sleep(1); want(p.poll() is None, 'CLI did not wait')\nrest = list(s); rc = p.wait(); err = p.stderr.read().decode()\nn = neardup.Index(str(D/'i.ndx')).documents\nwant(rc == 0 and n == 2 + 50 + 20, (rc, n, err)); ok((n, err[:80]))",
    "s34-CLI merge into index Python reads": "import subprocess\ncli = os.environ['NEARDUP_BIN']\na = neardup.Index.build(str(D/'a.ndx'), RECS); neardup.Index.build(str(D/'b.ndx'), [{'id': 'x', 'text': 'other words entirely here for the index'}])\nerrs = []\ndef f():\n    for _ in range(20):\n        try: neardup.clean(RECS, index=str(D/'a.ndx'))\n        except Exception as e: errs.append(repr(e)[:100])\nt = threading.Thread(target=f); t.start()\nsubprocess.run([cli, 'index', 'merge', str(D/'a.ndx'), str(D/'b.ndx'), '-o', str(D/'a.ndx')], check=True)\nt.join(); want(not errs, errs); n = neardup.Index(str(D/'a.ndx')).documents; want(n == 21, n); ok(n)",
    # outputs aimed at inputs
    "s34-tmp_dir = out_dir": "r = neardup.clean(paths=[D/'in.jsonl'], out_dir=str(D/'o'), memory_limit='1', tmp_dir=str(D/'o')); ok(sorted(os.listdir(D/'o')))",
    "s34-tmp_dir = input file": "ok([len(b) for b in neardup.clean_stream([RECS], memory_limit='1', tmp_dir=str(D/'in.jsonl'))]); print((D/'in.jsonl').read_text()[:5])",
    "s34-index = input file": "before = (D/'in.jsonl').read_bytes()\ntry: ok(neardup.clean(paths=[D/'in.jsonl'], index=str(D/'in.jsonl'), update=True))\nfinally: want((D/'in.jsonl').read_bytes() == before, 'input changed')",
    "s34-reference = index updated": "neardup.Index.build(str(D/'i.ndx'), RECS[:2]); ok(neardup.clean(RECS, index=str(D/'i.ndx'), update=True, reference=str(D/'i.ndx')))",
    "s34-build into walked dir": "(D/'t').mkdir(); (D/'t'/'a.jsonl').write_text((D/'in.jsonl').read_text()); i = neardup.Index.build(str(D/'t'/'i.ndx'), paths=[D/'t']); r = neardup.scan(paths=[D/'t']); want(len(r.report['inputs']) == 1, r.report['inputs']); ok(i.documents)",
    "s34-records of a file with \\r between fields": "(D/'cr.jsonl').write_bytes(b'{\"id\": 1,\\r\"text\": \"' + BODY.encode() + b'\"}\\n'); r = neardup.clean(paths=[D/'cr.jsonl']); want(r.records == [{'id': 1, 'text': BODY}], r.records); ok(r.records)",
    # the Spark job's arguments, refused before Spark is asked (no session)
    "s34-spark partitions=-1": "import neardup.spark as ns\ntry: ns.clean(None, [str(D/'in.jsonl')], str(D/'o.jsonl'), partitions=-1)\nexcept (TypeError, ValueError, ns.InputError) as e: ok(e)\nexcept Exception as e: want(False, e)",
    "s34-spark top=-1": "import neardup.spark as ns\ntry: ns.clean(None, [str(D/'in.jsonl')], str(D/'o.jsonl'), report=str(D/'r.txt'), top=-1)\nexcept (TypeError, ValueError, ns.InputError) as e: ok(e)\nexcept Exception as e: want(False, e)",
    "s34-spark output under a file": "import neardup.spark as ns\ntry: ns.clean(None, [str(D/'in.jsonl')], str(D/'in.jsonl') + '/o.jsonl')\nexcept (TypeError, ValueError, ns.InputError) as e: ok(e)\nexcept Exception as e: want(False, e)",
    # session 35: last session's leftovers (fork while a thread holds an index's
    # lock; Spark inputs the command line reads), then fresh eyes
    "s35-fork child updates after the parent's update": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\nreading, go = threading.Event(), threading.Event()\ndef g():\n    yield [{'id': f'a{j}', 'text': BODY + f' a {j}'} for j in range(20)]\n    reading.set(); go.wait(60)\nt = threading.Thread(target=lambda: neardup.Index(str(D/'i.ndx')).update(g())); t.start(); want(reading.wait(60), 'reading')\npid = os.fork()\nif pid == 0:\n    signal.alarm(30)\n    neardup.Index(str(D/'i.ndx')).update([{'id': 'child', 'text': BODY + ' child'}]); os._exit(0)\ntime.sleep(0.3); go.set(); t.join()\n_, st = os.waitpid(pid, 0); want(st == 0, st); n = neardup.Index(str(D/'i.ndx')).documents; want(n == 23, n); ok(n)",
    "s35-fork parent updates while child lives": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\nreading, go = threading.Event(), threading.Event()\ndef g():\n    yield [{'id': f'a{j}', 'text': BODY + f' a {j}'} for j in range(20)]\n    reading.set(); go.wait(60)\nt = threading.Thread(target=lambda: neardup.Index(str(D/'i.ndx')).update(g())); t.start(); want(reading.wait(60), 'reading')\npid = os.fork()\nif pid == 0:\n    signal.alarm(60); time.sleep(60); os._exit(0)\ngo.set(); t.join()\nlater = threading.Thread(target=lambda: neardup.Index(str(D/'i.ndx')).update([{'id': 'later', 'text': BODY + ' later'}]), daemon=True); later.start(); later.join(20)\nalive = later.is_alive(); os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)\nwant(not alive, 'parent waited for its child'); ok(neardup.Index(str(D/'i.ndx')).documents)",
    "s35-fork stream reader's child updates": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\nreading, go = threading.Event(), threading.Event()\ndef g():\n    yield [{'id': f's{j}', 'text': BODY + f' s {j}'} for j in range(50)]\n    reading.set(); go.wait(60)\ns = neardup.clean_stream(g(), index=str(D/'i.ndx'), update=True); want(reading.wait(60), 'reading')\npid = os.fork()\nif pid == 0:\n    signal.alarm(30)\n    try: neardup.Index(str(D/'i.ndx')).update([{'id': 'child', 'text': BODY + ' child'}])\n    except neardup.NeardupError as e: print('child refused', e, flush=True); os._exit(3)\n    os._exit(0)\ntime.sleep(0.3); go.set(); list(s)\n_, st = os.waitpid(pid, 0); want(st == 0, st); n = neardup.Index(str(D/'i.ndx')).documents; want(n == 53, n); ok(n)",
    "s35-fork pool made during an update": "import multiprocessing as mp\nneardup.Index.build(str(D/'i.ndx'), RECS[:2])\nreading, go = threading.Event(), threading.Event()\ndef g():\n    yield [{'id': f'a{j}', 'text': BODY + f' a {j}'} for j in range(20)]\n    reading.set(); go.wait(60)\nt = threading.Thread(target=lambda: neardup.Index(str(D/'i.ndx')).update(g())); t.start(); want(reading.wait(60), 'reading')\ndef work(k):\n    signal.alarm(30)\n    return neardup.Index(str(D/'i.ndx')).update([{'id': f'w{k}', 'text': BODY + f' w {k}'}]).status\nwith mp.get_context('fork').Pool(2) as p:\n    r = p.map_async(work, range(2), chunksize=1); go.set(); t.join(); got = r.get(60)\nn = neardup.Index(str(D/'i.ndx')).documents; want(n == 24, n); ok((got, n))",
    "s35-fork child exits normally after a callback thread": "def g():\n    for i in range(100):\n        time.sleep(0.02); yield RECS\nt = threading.Thread(target=lambda: neardup.clean(g(), progress=lambda *a: time.sleep(0.01)), daemon=True); t.start(); time.sleep(0.3)\nt0 = time.time(); pid = os.fork()\nif pid == 0:\n    sys.exit(0)\n_, st = os.waitpid(pid, 0); dt = time.time() - t0; want(st == 0 and dt < 3, (st, dt)); ok(round(dt, 2))",
    # the Spark job's arguments (no session: refused before Spark is asked)
    "s35-spark partitions=2**70": "import neardup.spark as ns\ntry: ns.clean(None, [str(D/'in.jsonl')], str(D/'o.jsonl'), partitions=2**70)\nexcept ValueError as e: ok(e)\nexcept Exception as e: want(False, e)",
    "s35-spark InputError is a NeardupError": "import neardup.spark as ns\nwant(issubclass(ns.InputError, neardup.NeardupError) and issubclass(ns.JobError, neardup.NeardupError), 'classes'); ok(ns.InputError.__mro__)",
    # paths of every kind
    "s35-records open text file": "with open(D/'in.jsonl') as f: ok(neardup.clean(f))",
    "s35-records open binary file": "with open(D/'in.jsonl', 'rb') as f: ok(neardup.clean(f))",
    "s35-paths=open file": "with open(D/'in.jsonl') as f: ok(neardup.clean(paths=[f]))",
    "s35-paths=[bytes]": "ok(neardup.clean(paths=[os.fsencode(D/'in.jsonl')]))",
    "s35-records=bytes path": "ok(neardup.clean(os.fsencode(D/'in.jsonl')))",
    "s35-custom PathLike": "class P:\n    def __init__(self, p): self.p = p\n    def __fspath__(self): return self.p\nos.PathLike.register(P)\nr = neardup.clean(paths=[P(str(D/'in.jsonl'))]); r2 = neardup.clean(P(str(D/'in.jsonl'))); want(r.output == r2.output, 'differ'); ok(len(r.records))",
    "s35-PathLike fspath raises": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('no path')\nok(neardup.clean(paths=[P()]))",
    "s35-PathLike fspath bytes": "class P(os.PathLike):\n    def __fspath__(self): return os.fsencode(D/'in.jsonl')\nok(neardup.clean(paths=[P()]))",
    "s35-str subclass str raises": "class S(str):\n    def __str__(self): raise RuntimeError('no str')\n    def __fspath__(self): raise RuntimeError('no fspath')\nr = neardup.clean(paths=[S(str(D/'in.jsonl'))]); ok(len(r.records))",
    "s35-str subclass as text": "class S(str):\n    def __str__(self): raise RuntimeError('no str')\nr = neardup.clean([S(BODY), S(BODY)]); want(len(r.records) == 1, r.records); ok(r.records)",
    "s35-index=PathLike raises": "class P(os.PathLike):\n    def __fspath__(self): raise RuntimeError('no path')\nok(neardup.clean(RECS, index=P(), update=True))",
    "s35-out_dir=open file": "with open(D/'x', 'w') as f: ok(neardup.clean(paths=[D/'in.jsonl'], out_dir=f))",
    # objects after their index changed
    "s35-Index after its file was deleted": "i = neardup.Index.build(str(D/'i.ndx'), RECS); os.remove(D/'i.ndx')\nfor f in (lambda: i.documents, lambda: i.stats(), lambda: i.scan(RECS), lambda: i.update(RECS[:1])):\n    try: print(repr(f())[:80])\n    except (neardup.NeardupError, OSError) as e: print(type(e).__name__, str(e)[:100])\nok('done')",
    "s35-Index after its file was replaced by another": "i = neardup.Index.build(str(D/'i.ndx'), RECS); j = neardup.Index.build(str(D/'j.ndx'), RECS[:3], level='docs')\nos.replace(D/'j.ndx', D/'i.ndx')\nfor f in (lambda: i.documents, lambda: i.scan(RECS).report['summary'], lambda: i.update(RECS[:1])):\n    try: print(repr(f())[:120])\n    except (neardup.NeardupError, OSError) as e: print(type(e).__name__, str(e)[:140])\nok('done')",
    "s35-Index after its file was replaced by text": "i = neardup.Index.build(str(D/'i.ndx'), RECS); (D/'i.ndx').write_text('not an index')\nfor f in (lambda: i.documents, lambda: i.scan(RECS), lambda: i.update(RECS[:1])):\n    try: print(repr(f())[:80])\n    except (neardup.NeardupError, OSError) as e: print(type(e).__name__, str(e)[:120])\nwant((D/'i.ndx').read_text() == 'not an index', 'replaced a user file'); ok('done')",
    # pickle
    "s35-pickle Result": "import pickle\nr = neardup.clean(RECS); r2 = pickle.loads(pickle.dumps(r)); want(r2.records == r.records and r2.report == r.report, 'differ'); ok(r2)",
    "s35-pickle Index": "import pickle\ni = neardup.Index.build(str(D/'i.ndx'), RECS); i2 = pickle.loads(pickle.dumps(i)); want(i2.documents == 20, 'docs'); ok(i2)",
    "s35-pickle Stream": "import pickle\ns = neardup.clean_stream([RECS])\ntry: pickle.dumps(s); print('pickled')\nexcept Exception as e: print(type(e).__name__, e)\nok(len(list(s)))",
    "s35-pickle NeardupError": "import pickle\ntry: neardup.clean([{'id': 1, 'text': 1}])\nexcept neardup.NeardupError as e:\n    e2 = pickle.loads(pickle.dumps(e)); want(type(e2) is type(e) and str(e2) == str(e), (e, e2)); ok(e2)",
    "s35-pickle NeardupOSError": "import pickle\ntry: neardup.clean(paths=[D/'nope'])\nexcept neardup.NeardupOSError as e:\n    e2 = pickle.loads(pickle.dumps(e)); want(type(e2) is type(e) and str(e2) == str(e), (repr(e), repr(e2))); ok(repr(e2))",
    "s35-pickle spark InputError": "import pickle, neardup.spark as ns\ne = ns.InputError(['a.jsonl:1: bad', 'b.jsonl:2: worse'])\ne2 = pickle.loads(pickle.dumps(e)); want(type(e2) is ns.InputError and e2.messages == e.messages, (e2.messages,)); ok(e2.messages)",
    "s35-pool worker raises NeardupOSError": "import multiprocessing as mp\ndef f(p):\n    return neardup.clean(paths=[p]).status\nwith mp.get_context('fork').Pool(1) as pool:\n    try: pool.map(f, [str(D/'nope')]); want(False, 'no error')\n    except neardup.NeardupOSError as e: ok(repr(e)[:100])\n    except Exception as e: want(False, repr(e))",
    "s35-spawn pool worker raises NeardupError": "import multiprocessing as mp\nwith mp.get_context('spawn').Pool(1) as pool:\n    try: pool.map(neardup.clean, [[{'id': 1, 'text': 1}]]); want(False, 'no error')\n    except neardup.NeardupError as e: ok(repr(e)[:100])\n    except Exception as e: want(False, repr(e))",
    # threads and asyncio
    "s35-asyncio executor runs": "import asyncio\nasync def main():\n    loop = asyncio.get_running_loop()\n    return await asyncio.gather(*[loop.run_in_executor(None, lambda: neardup.clean(RECS, threads=1).output) for _ in range(8)])\nouts = asyncio.run(main()); want(len(set(outs)) == 1 and outs[0] == neardup.clean(RECS).output, 'differ'); ok(len(outs))",
    "s35-asyncio to_thread stream": "import asyncio\nasync def main():\n    s = neardup.clean_stream([RECS] * 5, memory_limit='1M')\n    return [len(b) for b in await asyncio.to_thread(list, s)]\nok(asyncio.run(main()))",
    "s35-16 threads update one index": "neardup.Index.build(str(D/'i.ndx'), RECS[:2])\nerrs = []\ndef f(k):\n    try: neardup.Index(str(D/'i.ndx')).update([{'id': f't{k}-{j}', 'text': BODY + f' t {k} {j}'} for j in range(25)])\n    except Exception as e: errs.append(repr(e))\nts = [threading.Thread(target=f, args=(k,)) for k in range(16)]\n[t.start() for t in ts]; [t.join() for t in ts]\nn = neardup.Index(str(D/'i.ndx')).documents; want(not errs and n == 2 + 400, (n, errs)); ok(n)",
    "s35-threads scan one index while others update it": "neardup.Index.build(str(D/'i.ndx'), RECS)\nerrs = []\ndef upd(k):\n    try: neardup.Index(str(D/'i.ndx')).update([{'id': f'u{k}-{j}', 'text': BODY + f' u {k} {j}'} for j in range(25)])\n    except Exception as e: errs.append(repr(e))\ndef scan():\n    for _ in range(10):\n        try: r = neardup.Index(str(D/'i.ndx')).scan(RECS); assert r.report['summary']['documents'] == 20\n        except Exception as e: errs.append(repr(e))\nts = [threading.Thread(target=upd, args=(k,)) for k in range(4)] + [threading.Thread(target=scan) for _ in range(4)]\n[t.start() for t in ts]; [t.join() for t in ts]\nwant(not errs, errs); ok(neardup.Index(str(D/'i.ndx')).documents)",
    # memory: a generator of 5 million tiny strings under memory_limit
    "s35-5e6 tiny strings under memory_limit": "import resource\ndef g():\n    for i in range(5_000_000): yield f'w{i % 1000} x{i}'\nt0 = time.time(); n = 0\nfor b in neardup.clean_stream(g(), memory_limit='256M', tmp_dir=str(D), batch_size=10000): n += len(b)\nrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\nprint('kept', n, 'peak MB', rss, 's', round(time.time() - t0, 1)); want(rss < 1024, rss); ok(rss)",
    "s35-5e6 tiny strings clean() memory_limit": "import resource\ndef g():\n    for i in range(5_000_000): yield f'w{i % 1000} x{i}'\nt0 = time.time(); r = neardup.clean(g(), memory_limit='256M', tmp_dir=str(D))\nrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\nprint('kept', len(r.records), 'peak MB', rss, 's', round(time.time() - t0, 1)); ok(rss)",
}


def main() -> None:
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    bad = 0
    for name, body in CASES.items():
        if want not in name:
            continue
        with tempfile.TemporaryDirectory() as d:
            start = time.monotonic()
            try:
                done = subprocess.run(
                    [sys.executable, "-c", PRE + body, d],
                    capture_output=True,
                    timeout=int(os.environ.get("PYHOSTILE_TIMEOUT", "60")),
                )
                rc = done.returncode
                out = (done.stdout + done.stderr).decode(errors="replace").strip()
            except subprocess.TimeoutExpired:
                rc, out = "TIMEOUT", ""
            for root, dirs, _ in os.walk(d):  # chmod 0 dirs so cleanup works
                for x in dirs:
                    try:
                        os.chmod(os.path.join(root, x), 0o755)
                    except OSError:
                        pass
        last = out.splitlines()[-3:] if out else []
        flag = rc not in (0, 1) or "PanicException" in out or "panicked" in out
        bad += flag
        print(f"{'!!' if flag else '  '} {name:45} rc={rc} {time.monotonic() - start:5.1f}s | {' / '.join(last)[:300]}")
    print(f"{bad} flagged")


if __name__ == "__main__":
    main()
