#!/bin/bash
# benches/same_flood.sh A B: titles that begin with the same five words ("breaking news from the
# city" + 3 words; 60,000 at SCALE=1), then later batches with copies and near copies of them,
# with builds A and B, at 1 and 2 threads, whole and at --memory-limit 256K: index build, clean
# --index, clean --index --update, scan --index --update, check --index, index merge with an
# index of another batch and clean against the merge. Are the outputs (md5), the JSON reports
# (less "command" and times) and exit statuses the same? Each binary reads the indexes it built.
# Prints each combination that differs and a count. Scratch under ${TMPDIR:-/tmp}/neardup-same-flood.
A=$1; B=$2; W=${TMPDIR:-/tmp}/neardup-same-flood; rm -rf $W; mkdir -p $W/in
cd "$(dirname "$0")/.."
python3 - $W/in ${SCALE:-1} <<'PY'
import json, random, sys
out, scale = sys.argv[1], float(sys.argv[2])
rng = random.Random(27)
word = lambda: rng.choice(["news", "city", "fire", "vote", "game", "rain", "bank", "park"]) + str(rng.randrange(3000))
head = "breaking news from the city"
title = lambda: head + " " + " ".join(word() for _ in range(3))
def dump(name, texts):
    with open(f"{out}/{name}.jsonl", "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"{name}-{i}", "text": t}) + "\n")
titles = [title() for _ in range(int(60000 * scale))]
dump("titles", titles)
near = lambda t: t + " " + word()
b1 = [rng.choice(titles) if i % 10 == 9 else near(rng.choice(titles)) if i % 10 == 8 else title() for i in range(3000)]
dump("b1", b1)
b2 = [rng.choice(titles + b1) if i % 5 == 4 else title() for i in range(2000)]
dump("b2", b2)
dump("b3", [near(rng.choice(b2)) if i % 4 == 3 else title() for i in range(500)])
PY
strip="command timings seconds elapsed engine_version"; limit=256K; runs=8
tag_runs() {
  cd $o
  run build $bin index build -q --threads $T $extra ../in/titles.jsonl -o ix.ndx
  run read $bin clean -q --threads $T $extra --index ix.ndx ../in/b1.jsonl -o read.out --report read.rep --json; rep read.rep
  run up1 $bin clean -q --threads $T $extra --index ix.ndx --update ../in/b1.jsonl -o up1.out --report up1.rep --json; rep up1.rep
  run up2 $bin scan -q --threads $T $extra --index ix.ndx --update ../in/b2.jsonl --json; rep up2.stdout
  run check $bin check -q --threads $T $extra --index ix.ndx --json ../in/b3.jsonl; rep check.stdout
  run bb $bin index build -q --threads $T $extra ../in/b3.jsonl -o b3.ndx
  run merge $bin index merge ix.ndx b3.ndx -o m.ndx
  run m3 $bin clean -q --threads $T $extra --index m.ndx ../in/b2.jsonl -o m3.out --report m3.rep --json; rep m3.rep
}
. benches/same_runs.sh
