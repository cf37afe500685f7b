# Sourced by same_index.sh and same_flood.sh once their inputs are made: the
# caller's `tag_runs` (the runs of build $bin, written under $o) with builds A
# and B, at 1 and 2 threads, whole and at --memory-limit $limit. JSON reports
# are compared less the keys in $strip; indexes and locks are not compared.
# Prints each combination that differs and a count ($runs runs each).
norm='import json,sys
drop=sys.argv[1:]
r=json.load(sys.stdin)
def strip(v):
    if isinstance(v,dict):
        return {k:strip(x) for k,x in v.items() if k not in drop}
    if isinstance(v,list): return [strip(x) for x in v]
    return v
print(json.dumps(strip(r),sort_keys=True))'
run() { name=$1; shift; "$@" > $o/$name.stdout 2> $o/$name.err; echo $? > $o/$name.rc; }
# rep FILE [NAME]: the JSON report in FILE, normalized, into NAME (FILE.n); FILE removed.
rep() { python3 -c "$norm" $strip < $o/$1 > $o/${2:-$1.n} 2>/dev/null; rm -f $o/$1; }
n=0; differ=0
for T in 1 2; do
  for mode in whole chunk; do
    extra=""; [ $mode = chunk ] && extra="--memory-limit $limit --tmp-dir $W/sp"
    for tag in a b; do
      bin=$A; [ $tag = b ] && bin=$B
      o=$W/$tag; rm -rf $o; mkdir -p $o $W/sp
      (tag_runs)
      rm -f $o/*.ndx $o/*.lock
      (cd $o && for f in $(ls | sort); do md5sum < $f | sed "s|-|$f|"; done) > $W/$tag.sum
    done
    n=$((n+1))
    if ! cmp -s $W/a.sum $W/b.sum; then
      differ=$((differ+1)); echo "DIFFER: T=$T $mode"; diff $W/a.sum $W/b.sum
    fi
  done
done
echo "$n combinations ($runs runs each), $differ differ"
