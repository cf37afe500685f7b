#!/bin/bash
# Output equivalence of two neardup builds: md5 of `clean` output, --report JSON,
# stderr and exit status, over corpora and tests/data, at 1 and 2 threads, whole
# and with --memory-limit, a few settings, and an index built, used and updated.
#
#   benches/equiv.sh BIN_A BIN_B
#
# Corpora (skipped when missing): target/eval/corpus10k.jsonl and
# target/eval/c100k.jsonl (benches/make_corpus.py --docs 10000 / --docs 100000
# --seed 2). Prints each differing combination and the count. The index file's
# own bytes differ between two runs of one build: it is compared through the
# outputs and reports of the runs that read it.
set -u
A=$1; B=$2
cd "$(dirname "$0")/.."
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
inputs=""
for f in target/eval/corpus10k.jsonl target/eval/c100k.jsonl; do [ -f "$f" ] && inputs="$inputs $f"; done
inputs="$inputs $(find tests/data -type f \( -name '*.txt' -o -name '*.jsonl' \) | sort)"
n=0; bad=0
run() { # tag bin args...
  local tag=$1 bin=$2; shift 2
  local d=$W/$tag; mkdir -p "$d/tmp"
  "$bin" clean -q --tmp-dir "$d/tmp" --json --report "$d/r.json" -o "$d/o" "$@" 2>"$d/err"; echo "rc $?" >> "$d/err"
  cat "$d/o" "$d/r.json" "$d/err" 2>/dev/null | md5sum | cut -c1-32
}
cmp2() { # args...
  local x y; x=$(run a "$A" "$@"); y=$(run b "$B" "$@"); n=$((n+1))
  if [ "$x" != "$y" ]; then bad=$((bad+1)); echo "DIFF: $*"; fi
  rm -rf "$W/a" "$W/b"
}
for f in $inputs; do
  for t in 1 2; do
    lim=64M; case $f in *c100k*) lim=256M;; esac
    cmp2 --threads $t "$f"
    cmp2 --threads $t --memory-limit $lim "$f"
  done
done
if [ -f target/eval/corpus10k.jsonl ]; then
  for extra in "--measure jaccard" "--keep longest" "--level docs" "--level blocks" "--threshold 0.8" "--threshold 0.3 --level docs" "--annotate"; do
    # shellcheck disable=SC2086
    for t in 1 2; do cmp2 --threads $t $extra target/eval/corpus10k.jsonl; done
  done
  head -n 5000 target/eval/corpus10k.jsonl > "$W/first.jsonl"
  tail -n 5000 target/eval/corpus10k.jsonl > "$W/second.jsonl"
  for t in 1 2; do
    for b in "$A" "$B"; do
      d=$W/idx; rm -rf "$d"; mkdir -p "$d"
      "$b" clean -q --threads $t --index "$d/ix" --update -o "$d/o1" --json --report "$d/r1" "$W/first.jsonl"
      "$b" clean -q --threads $t --index "$d/ix" --json --report "$d/r2" -o "$d/o2" "$W/second.jsonl"
      "$b" clean -q --threads $t --index "$d/ix" --update --json --report "$d/r3" -o "$d/o3" "$W/second.jsonl"
      (cd "$d" && cat o1 r1 o2 r2 o3 r3 | md5sum) > "$W/idx-$([ "$b" = "$A" ] && echo a || echo b)"
    done
    n=$((n+1))
    cmp -s "$W/idx-a" "$W/idx-b" || { bad=$((bad+1)); echo "DIFF: index --threads $t"; }
  done
fi
echo "$n combinations, $bad differing"
