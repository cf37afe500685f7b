#!/bin/bash
# benches/same.sh A B: for target/eval/corpus10k.jsonl and tests/data's inputs, at 1 and 2
# threads, whole and at --memory-limit 64M: are the cleaned output (md5), the JSON report
# (less "command") and the exit status of builds A and B the same? (EXTRA="FILES" adds inputs.) Prints each that
# differs and a count. Scratch files under ${TMPDIR:-/tmp}/neardup-same.
A=$1; B=$2; W=${TMPDIR:-/tmp}/neardup-same; rm -rf $W; mkdir -p $W/sp; cd "$(dirname "$0")/.."
inputs="target/eval/corpus10k.jsonl $(ls -d tests/data/*/ | tr '\n' ' ') ${EXTRA:-}"
n=0; differ=0
for f in $inputs; do
  for T in 1 2; do
    for mode in whole chunk; do
      extra=""; [ $mode = chunk ] && extra="--memory-limit 64M --tmp-dir $W/sp"
      outs=""
      for tag in a b; do
        bin=$A; [ $tag = b ] && bin=$B
        if [ -d $f ]; then
          ins=$(ls $f | grep -v '^expected\|^paths$\|^check' | sed "s|^|$f|"); o="--out-dir $W/$tag.out"
        else ins=$f; o="-o $W/$tag.out"; fi
        rm -rf $W/$tag.out
        $bin clean -q --threads $T $extra $ins $o --report $W/$tag.rep --json 2>$W/$tag.err; echo $? > $W/$tag.rc
        python3 -c "
import json,sys; r=json.load(open('$W/$tag.rep')); r.pop('command',None); r.get('tool',{}).pop('engine_version',None) if isinstance(r.get('tool'),dict) else None
print(json.dumps(r,sort_keys=True))" > $W/$tag.rep.n 2>/dev/null
        (cd $W/$tag.out 2>/dev/null && find . -type f | sort | xargs md5sum; [ -f $W/$tag.out ] && md5sum < $W/$tag.out) > $W/$tag.sum 2>/dev/null
      done
      ta=a; tb=b; n=$((n+1))
      if ! cmp -s $W/$ta.sum $W/$tb.sum || ! cmp -s $W/$ta.rep.n $W/$tb.rep.n || ! cmp -s $W/$ta.rc $W/$tb.rc; then
        differ=$((differ+1)); echo "DIFFER: $f T=$T $mode"; cmp $W/$ta.sum $W/$tb.sum; cmp $W/$ta.rep.n $W/$tb.rep.n; cat $W/$ta.rc $W/$tb.rc | tr '\n' ' '; echo
      fi
    done
  done
done
echo "$n combinations, $differ differ"
