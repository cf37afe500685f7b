#!/bin/bash
# benches/same_index.sh A B: runs that build, read, update and merge indexes of short records
# (benches/short_inputs.py, SCALE=1 unless given; a flood of one record spread over three updates) with builds A and B, at 1 and 2 threads,
# whole and at --memory-limit 64M: are the outputs (md5), the JSON reports (less "command" and
# times) and `index stats --json` (less sizes, times, format and the bucket records, which
# documents of few shingles no longer have) the same? Indexes are built by each binary and read
# by the same one. Prints each that differs and a count. Scratch under ${TMPDIR:-/tmp}/neardup-same-index.
A=$1; B=$2; W=${TMPDIR:-/tmp}/neardup-same-index; rm -rf $W; mkdir -p $W/in
cd "$(dirname "$0")/.."
python3 benches/short_inputs.py $W/in ${SCALE:-1}
strip="command created updated bytes path format_version bucket_entries short_doc_shingles
  short_document_shingles timings seconds elapsed engine_version"; limit=64M; runs=12
tag_runs() {
  stats() { $bin index stats --json $o/$1 | python3 -c "$norm" $strip > $o/$1.stats; }
  run build $bin index build -q --threads $T $extra $W/in/b1.jsonl -o $o/ix.ndx; stats ix.ndx
  cp $o/ix.ndx $o/ix0.ndx
  run read $bin clean -q --threads $T $extra --index $o/ix.ndx $W/in/b2.jsonl -o $o/read.out --report $o/read.rep --json; rep read.rep
  run up1 $bin clean -q --threads $T $extra --index $o/ix.ndx --update $W/in/b2.jsonl -o $o/up1.out --report $o/up1.rep --json; rep up1.rep; stats ix.ndx
  run up2 $bin clean -q --threads $T $extra --index $o/ix.ndx --update $W/in/b3.jsonl -o $o/up2.out --report $o/up2.rep --json; rep up2.rep; stats ix.ndx
  for k in 1 2 3; do
    run flood$k $bin scan -q --threads $T $extra --index $o/ix.ndx --update $W/in/b4.jsonl --json; rep flood$k.stdout flood$k.n
  done
  stats ix.ndx
  run check $bin check -q --threads $T $extra --index $o/ix.ndx --json $W/in/b3.jsonl; rep check.stdout check.n
  run b2 $bin index build -q --threads $T $extra $W/in/b2.jsonl -o $o/ix2.ndx
  run merge $bin index merge $o/ix0.ndx $o/ix2.ndx -o $o/m.ndx; stats m.ndx
  run m3 $bin clean -q --threads $T $extra --index $o/m.ndx $W/in/b3.jsonl -o $o/m3.out --report $o/m3.rep --json; rep m3.rep
  run ref $bin clean -q --threads $T $extra --reference $o/ix0.ndx $W/in/b2.jsonl $W/in/b3.jsonl -o $o/ref.out --report $o/ref.rep --json; rep ref.rep
  sed -i "s|$o/|DIR/|g" $o/*.err
}
. benches/same_runs.sh
