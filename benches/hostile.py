#!/usr/bin/env python3
"""A hostile tester's pass over a neardup binary (issue 14): prints one
Markdown table row a case (case, command, expected, got, verdict).

    python3 benches/hostile.py path/to/neardup [--only SUBSTRING] [--heavy]

Every case runs in its own temporary directory. Special targets are FIFOs
and `mknod` devices made inside it (as root), never real /dev paths. Disk
full is a 1 MiB tmpfs mounted inside it (as root; skipped otherwise).
`--heavy` adds the bombs and the large files (gigabytes decompressed, a
100 MB line), which take minutes.
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

B = None
ROWS = []
FAILED = []


def words(n, seed=0):
    import random

    rng = random.Random(seed)
    vocab = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
        "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
        "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
        "xray", "yankee", "zulu", "river", "stone", "cloud", "paper", "light",
    ]
    return " ".join(rng.choice(vocab) + str(rng.randrange(50)) for _ in range(n))


def records(n=40):
    out = []
    for i in range(n):
        text = words(60, seed=i % 25)  # 15 exact copies
        out.append(json.dumps({"id": f"d{i}", "text": text}))
    return "\n".join(out) + "\n"


TEXT = "\n\n".join(words(40, seed=i % 6) for i in range(12)) + "\n"


def old(path):
    """Whether `path` still holds the "old" line the case wrote."""
    try:
        with open(path) as f:
            return f.read() == "old\n"
    except OSError:
        return False


def write(path, data):
    """Writes `data`, text or bytes, to `path`."""
    with open(path, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


def remove(d, *names):
    """Removes those of `names` (in `d`) that are there."""
    for n in names:
        if os.path.exists(os.path.join(d, n)):
            os.remove(os.path.join(d, n))


def sha(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:12]
    except OSError as e:
        return f"<{e.strerror}>"


def nd(args, cwd, stdin=None, timeout=300, env=None, pass_fds=(), stdout=None):
    full_env = dict(os.environ)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env.update(env or {})
    p = subprocess.run(
        [B] + args,
        cwd=cwd,
        input=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=full_env,
        pass_fds=pass_fds,
    )
    return p.returncode, p.stdout or b"", p.stderr.decode("utf-8", "replace")


def crashed(code, err):
    return code not in (0, 1, 2) or "panicked" in err or "memory allocation" in err


def short(err, n=110):
    err = err.strip().replace("\n", " / ").replace("|", "\\|")
    return err[:n] + ("..." if len(err) > n else "")


def terminated_after(p, seconds, sig=signal.SIGTERM, wait=10):
    """`sig` to process `p` after `seconds`: its exit status within `wait`
    seconds, or "hung" (then killed)."""
    time.sleep(seconds)
    p.send_signal(sig)
    try:
        return p.wait(wait)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "hung"


def row(case, command, expected, got, ok):
    command = command.replace("|", "\\|")
    ROWS.append(f"| {case} | `{command}` | {expected} | {got} | {'ok' if ok else '**FAIL**'} |")
    print(ROWS[-1], flush=True)
    if not ok:
        FAILED.append(case)


def temps(d):
    found = []
    for root, _, files in os.walk(d):
        found += [os.path.join(root, f) for f in files if ".neardup-" in f and f.endswith(".tmp")]
    return found


def write_records(path, count, length):
    """`count` JSON Lines records of `length` words each (ids 0, 1, ...)."""
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"id": i, "text": words(length, seed=i)}) + "\n")


def setup(d):
    write(os.path.join(d, "r.jsonl"), records())
    write(os.path.join(d, "a.txt"), TEXT)
    os.mkdir(os.path.join(d, "sub"))
    write(os.path.join(d, "sub", "b.txt"), TEXT)


@contextlib.contextmanager
def set_up():
    """A case's temporary directory, with `setup`'s files."""
    with tempfile.TemporaryDirectory() as d:
        setup(d)
        yield d


def refused(case, args, d, expect_unchanged, pass_fds=(), env=None):
    """A run that must be refused (exit 2, a message) with `expect_unchanged` intact."""
    before = {p: sha(os.path.join(d, p)) for p in expect_unchanged}
    code, _, err = nd(args, d, pass_fds=pass_fds, env=env)
    after = {p: sha(os.path.join(d, p)) for p in expect_unchanged}
    ok = code == 2 and before == after and not crashed(code, err) and err.startswith("neardup:")
    changed = [p for p in before if before[p] != after[p]]
    got = f"exit {code}; {short(err)}" + (f"; CHANGED {changed}" if changed else "")
    row(case, "neardup " + " ".join(args), "exit 2, nothing changed", got, ok)


def passed_over(case, args, d, index):
    """A run whose walked inputs include neardup index `index` (or a link to
    it): it runs (exit 0), never reading the index as an input, and the
    index afterwards holds each document once (not the index's own bytes)."""
    code, _, err = nd(args, d)
    stats_code, out, _ = nd(["index", "stats", "--json", index], d)
    docs = json.loads(out)["documents"] if stats_code == 0 else None
    read_as_input = "binary file" in err or "include text files" in err
    ok = code == 0 and docs is not None and not read_as_input and not crashed(code, err)
    row(case, "neardup " + " ".join(args), "exit 0, the index passed over by the walk and updated", f"exit {code}; {short(err)}; index holds {docs} documents", ok)


def case_aliases():
    with set_up() as d:
        os.symlink("r.jsonl", os.path.join(d, "link.jsonl"))
        os.link(os.path.join(d, "r.jsonl"), os.path.join(d, "hard.jsonl"))
        absolute = os.path.join(d, "r.jsonl")
        aliases = {
            "name": "r.jsonl",
            "./name": "./r.jsonl",
            "sub/..": "sub/../r.jsonl",
            "symlink": "link.jsonl",
            "hard link": "hard.jsonl",
            "absolute //": "/" + absolute,
        }
        for how, alias in aliases.items():
            for flag in ["-o", "--report", "--html"]:
                extra = ["-o", "out.jsonl"] if flag != "-o" else []
                refused(f"1: clean {flag} = input by {how}", ["clean", "-q", "r.jsonl", *extra, flag, alias], d, ["r.jsonl"])
            refused(f"1: index build -o = input by {how}", ["index", "build", "-q", "r.jsonl", "-o", alias], d, ["r.jsonl"])
            refused(f"1: check --step-summary = input by {how}", ["check", "-q", "r.jsonl", "--step-summary", alias], d, ["r.jsonl"])
        # /proc/self/fd/N: the run's own descriptor on the input.
        fd = os.open(absolute, os.O_RDONLY)
        try:
            for flag in ["-o", "--report"]:
                extra = ["-o", "out.jsonl"] if flag != "-o" else []
                refused(f"1: clean {flag} = input by /proc/self/fd/{fd}", ["clean", "-q", "r.jsonl", *extra, flag, f"/proc/self/fd/{fd}"], d, ["r.jsonl"], pass_fds=(fd,))
        finally:
            os.close(fd)
        # GITHUB_STEP_SUMMARY is only where the user points --step-summary.
        summary_before = sha(absolute)
        code, out, err = nd(["check", "-q", "--output-format", "github", "r.jsonl"], d, env={"GITHUB_STEP_SUMMARY": absolute})
        row("1: GITHUB_STEP_SUMMARY = the input", "GITHUB_STEP_SUMMARY=r.jsonl neardup check --output-format github r.jsonl", "input untouched", f"exit {code}; input {'unchanged' if sha(absolute) == summary_before else 'CHANGED'}", not crashed(code, err) and sha(absolute) == summary_before)
        # Indexes.
        code, _, err = nd(["index", "build", "-q", "r.jsonl", "-o", "i.ndx"], d)
        assert code == 0, err
        os.symlink("i.ndx", os.path.join(d, "ilink.ndx"))
        os.link(os.path.join(d, "i.ndx"), os.path.join(d, "ihard.ndx"))
        for how, alias in {"name": "i.ndx", "symlink": "ilink.ndx", "hard link": "ihard.ndx", "lock": "i.ndx.lock"}.items():
            refused(f"1: clean --index --update, -o = index by {how}", ["clean", "-q", "a.txt", "--index", "i.ndx", "--update", "-o", alias], d, ["i.ndx"])
            refused(f"1: --reference, -o = reference by {how}", ["clean", "-q", "a.txt", "--reference", "i.ndx", "-o", alias], d, ["i.ndx"])
            refused(f"1: --report = updated index by {how}", ["clean", "-q", "a.txt", "--index", "i.ndx", "--update", "-o", "o.txt", "--report", alias], d, ["i.ndx"])
            refused(f"1: index merge -o = input by {how}", ["index", "merge", "i.ndx", "i.ndx", "-o", alias] if how != "name" else ["index", "merge", "i.ndx", "ilink.ndx", "-o", "i.ndx"], d, ["i.ndx"])
        refused("Smaller: self-merge by hard link", ["index", "merge", "i.ndx", "ihard.ndx", "-o", "m.ndx"], d, ["i.ndx"])
        refused("1: --out-dir . over its own inputs", ["clean", "-q", "a.txt", "sub/b.txt", "--out-dir", "."], d, ["a.txt", "sub/b.txt"])
        refused("1: --out-dir sub/.. over its own inputs", ["clean", "-q", "a.txt", "--out-dir", "sub/.."], d, ["a.txt"])
        refused("1: -o and --report the same file by hard link", ["clean", "-q", "a.txt", "-o", "x.txt", "--report", "x.txt"], d, [])
        refused("1: --html = -o", ["clean", "-q", "a.txt", "-o", "x.txt", "--html", "./x.txt"], d, [])
        refused("1: --tmp-dir a file (Smaller)", ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", "a.txt", "r.jsonl", "-o", "o.jsonl"], d, ["a.txt"])


def case_targets():
    with set_up() as d:
        whole = nd(["clean", "-q", "r.jsonl", "-o", "-"], d)[1]
        # FIFO as -o, --report, --html.
        for flag in ["-o", "--report", "--html"]:
            fifo = os.path.join(d, f"fifo{flag}")
            os.mkfifo(fifo)
            got = {}

            def drain():
                with open(fifo, "rb") as f:
                    got["bytes"] = f.read()

            t = threading.Thread(target=drain)
            t.start()
            extra = ["-o", "o.jsonl"] if flag != "-o" else []
            code, _, err = nd(["clean", "-q", "r.jsonl", *extra, flag, fifo], d, timeout=60)
            t.join(10)
            still = stat.S_ISFIFO(os.lstat(fifo).st_mode)
            ok = code == 0 and still and len(got.get("bytes", b"")) > 0 and (flag != "-o" or got["bytes"] == whole)
            row(f"2: {flag} a FIFO", f"neardup clean r.jsonl {flag} fifo", "written through, still a FIFO", f"exit {code}; FIFO {still}; {len(got.get('bytes', b''))} bytes read", ok)
        if os.geteuid() == 0:
            for name, minor in [("null", 3), ("zero", 5)]:
                dev = os.path.join(d, name)
                os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
                for flag in ["-o", "--report"]:
                    extra = ["-o", "o.jsonl"] if flag != "-o" else []
                    code, _, err = nd(["clean", "-q", "r.jsonl", *extra, flag, dev], d)
                    still = stat.S_ISCHR(os.lstat(dev).st_mode)
                    row(f"2: {flag} a char device ({name}, mknod)", f"neardup clean r.jsonl {flag} ./{name}", "exit 0, still a device", f"exit {code}; device {still}; {short(err, 60)}", code == 0 and still)
            full = os.path.join(d, "full")
            os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            code, _, err = nd(["clean", "-q", "r.jsonl", "-o", full], d)
            row("3: -o a full device (mknod 1,7)", "neardup clean r.jsonl -o ./full", "exit 2, says no space", f"exit {code}; {short(err)}", code == 2 and "space" in err.lower())
            # Index updated only after the output is written.
            code, _, err = nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
            before = sha(os.path.join(d, "u.ndx"))
            code, _, err = nd(["clean", "-q", "r.jsonl", "--index", "u.ndx", "--update", "-o", full], d)
            row("3: --update with -o a full device", "neardup clean r.jsonl --index u.ndx --update -o ./full", "exit 2, index unchanged", f"exit {code}; index {'unchanged' if sha(os.path.join(d, 'u.ndx')) == before else 'CHANGED'}", code == 2 and sha(os.path.join(d, "u.ndx")) == before)
            with open(full, "wb") as out:
                code, _, err = nd(["check", "-q", "r.jsonl", "--index", "u.ndx", "--update"], d, stdout=out)
            row("3: check --update, stdout a full device", "neardup check r.jsonl --index u.ndx --update > ./full", "exit 2, index unchanged", f"exit {code}; index {'unchanged' if sha(os.path.join(d, 'u.ndx')) == before else 'CHANGED'}; {short(err, 60)}", code == 2 and sha(os.path.join(d, "u.ndx")) == before)
        # Symlinks.
        write(os.path.join(d, "target.txt"), "old\n")
        os.symlink("target.txt", os.path.join(d, "tl.jsonl"))
        code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "tl.jsonl"], d)
        is_link = os.path.islink(os.path.join(d, "tl.jsonl"))
        row("2: -o a symlink to a file", "neardup clean r.jsonl -o tl.jsonl", "link kept, target replaced", f"exit {code}; link {is_link}; target {'new' if sha(os.path.join(d, 'target.txt')) == hashlib.sha256(whole).hexdigest()[:12] else 'OLD'}", code == 0 and is_link and sha(os.path.join(d, "target.txt")) == hashlib.sha256(whole).hexdigest()[:12])
        os.symlink("nowhere/x.jsonl", os.path.join(d, "dangling.jsonl"))
        code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "dangling.jsonl"], d)
        made = os.path.isfile(os.path.join(d, "nowhere", "x.jsonl")) and os.path.islink(os.path.join(d, "dangling.jsonl"))
        row("2: -o a dangling symlink into a missing dir", "neardup clean r.jsonl -o dangling.jsonl", "target and its directory created (as -o into a missing directory), link kept", f"exit {code}; {made}; {short(err)}", code == 0 and made)
        os.symlink("made.jsonl", os.path.join(d, "dangling2.jsonl"))
        code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "dangling2.jsonl"], d)
        made = os.path.exists(os.path.join(d, "made.jsonl")) and os.path.islink(os.path.join(d, "dangling2.jsonl"))
        row("2: -o a dangling symlink", "neardup clean r.jsonl -o dangling2.jsonl", "target created, link kept", f"exit {code}; {made}", code == 0 and made)
        # /proc/self/fd/1 with stdout a regular file.
        with open(os.path.join(d, "stdout.jsonl"), "wb") as out:
            ino = os.fstat(out.fileno()).st_ino
            code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "/proc/self/fd/1"], d, stdout=out)
        same = os.stat(os.path.join(d, "stdout.jsonl")).st_ino == ino and sha(os.path.join(d, "stdout.jsonl")) == hashlib.sha256(whole).hexdigest()[:12]
        row("2: -o /proc/self/fd/1 (stdout a file)", "neardup clean r.jsonl -o /proc/self/fd/1 > stdout.jsonl", "the file has the output", f"exit {code}; {same}; {short(err, 60)}", code == 0 and same)
        # Pipe closed early with --update.
        code, _, err = nd(["index", "build", "-q", "a.txt", "-o", "p.ndx"], d)
        before = sha(os.path.join(d, "p.ndx"))
        p = subprocess.Popen([B, "clean", "r.jsonl", "--index", "p.ndx", "--update"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.close()
        err = p.stderr.read().decode()
        code = p.wait()
        unchanged = sha(os.path.join(d, "p.ndx")) == before
        row("Smaller: --update, output pipe closed", "neardup clean r.jsonl --index p.ndx --update \\| (closed)", "index unchanged and said so, or exit != 0", f"exit {code}; index {'unchanged' if unchanged else 'updated'}; {short(err, 80)}", unchanged and (code != 0 or "not updated" in err or "index" in err) and not crashed(code if code >= 0 else 99, err))


@contextlib.contextmanager
def tmpfs(d, size="1m"):
    """A tmpfs of `size` mounted at `d`/small (None when it cannot be:
    not root), unmounted when the block ends."""
    mnt = os.path.join(d, "small")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt], capture_output=True)
    if r.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", mnt])


def fill(mnt):
    """Fills the tmpfs at `mnt` but for a few bytes."""
    fd = os.open(os.path.join(mnt, "fill"), os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def case_disk_full():
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 2000, 150)
        with tmpfs(d) as mnt:
            if mnt is None:
                row("3/4: disk full", "mount tmpfs", "", "skipped (not root)", True)
                return
            write(os.path.join(mnt, "old.jsonl"), "old\n")
            for limit in [[], ["--memory-limit", "1M"]]:
                code, _, err = nd(["clean", "-q", *limit, "big.jsonl", "-o", "small/old.jsonl"], d)
                left = temps(mnt)
                row(f"3: -o on a full disk {' '.join(limit)}", f"neardup clean {' '.join(limit)} big.jsonl -o small/old.jsonl", "exit 2, old file intact, no temp", f"exit {code}; old {'intact' if old(os.path.join(mnt, 'old.jsonl')) else 'CHANGED'}; temps {len(left)}; {short(err, 70)}", code == 2 and open(os.path.join(mnt, "old.jsonl")).read() == "old\n" and not left)
            # The report fails after the output was written: nothing changes.
            nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
            before = sha(os.path.join(d, "u.ndx"))
            write(os.path.join(d, "out.jsonl"), "old\n")
            fill(mnt)
            code, _, err = nd(["clean", "-q", "big.jsonl", "--index", "u.ndx", "--update", "-o", "out.jsonl", "--report", "small/rep.json", "--json"], d)
            ok = code == 2 and sha(os.path.join(d, "u.ndx")) == before and open(os.path.join(d, "out.jsonl")).read() == "old\n"
            row("3: --report fails (disk full) with --update", "neardup clean big.jsonl --index u.ndx --update -o out.jsonl --report small/rep.json", "exit 2, index and output unchanged", f"exit {code}; index {'unchanged' if sha(os.path.join(d, 'u.ndx')) == before else 'CHANGED'}; out {'old' if old(os.path.join(d, 'out.jsonl')) else 'CHANGED'}; {short(err, 50)}", ok)
            os.remove(os.path.join(mnt, "fill"))
            # --out-dir all or nothing.
            tree = os.path.join(mnt, "tree")
            os.mkdir(tree)
            names = []
            for i in range(4):
                name = f"t{i}.txt"
                write(os.path.join(d, name), "\n\n".join(words(60, seed=1000 * i + j) for j in range(1200)))
                write(os.path.join(tree, name), "old\n")
                names.append(name)
            code, _, err = nd(["clean", "-q", *names, "--out-dir", "small/tree"], d)
            olds = [open(os.path.join(tree, n)).read() == "old\n" for n in names]
            left = [f for f in os.listdir(tree) if f not in names]
            row("4: --out-dir on a full disk (4 x 500 KB into 1 MiB)", "neardup clean t0..t3.txt --out-dir small/tree", "exit 2, every old file intact, nothing staged left", f"exit {code}; old {sum(olds)}/4; left {left}; {short(err, 60)}", code == 2 and all(olds) and not left)
            # Index build / update on a full disk.
            code, _, err = nd(["index", "build", "-q", "big.jsonl", "-o", "small/i.ndx"], d)
            row("3: index build on a full disk", "neardup index build big.jsonl -o small/i.ndx", "exit 2, no index, no temp", f"exit {code}; exists {os.path.exists(os.path.join(mnt, 'i.ndx'))}; temps {len(temps(mnt))}; {short(err, 60)}", code == 2 and not os.path.exists(os.path.join(mnt, "i.ndx")) and not temps(mnt))


def case_file_size_limit():
    with tempfile.TemporaryDirectory() as d:
        write_records(os.path.join(d, "big.jsonl"), 2000, 150)
        write(os.path.join(d, "o.jsonl"), "old\n")
        for args in [["clean", "-q", "big.jsonl", "-o", "o.jsonl"], ["index", "build", "-q", "big.jsonl", "-o", "i.ndx"]]:
            p = subprocess.run(["bash", "-c", f"ulimit -f 200; exec {B} " + " ".join(args)], cwd=d, capture_output=True)
            err = p.stderr.decode()
            left = temps(d)
            intact = old(os.path.join(d, "o.jsonl"))
            # A rerun without the limit cleans up after the dead one.
            code2, _, err2 = nd(args, d)
            left2 = temps(d)
            row(f"3: ulimit -f (SIGXFSZ) during {args[0]} {args[1] if args[0] == 'index' else ''}", f"ulimit -f 200; neardup {' '.join(args)}", "exit 2 or killed; old intact; rerun leaves no temp", f"exit {p.returncode}; old {'intact' if intact else 'CHANGED'}; temps {len(left)} then {len(left2)} after rerun (exit {code2}); {short(err, 60)}", intact and not left2 and code2 == 0)
            write(os.path.join(d, "o.jsonl"), "old\n")


def case_signals():
    with tempfile.TemporaryDirectory() as d:
        write_records(os.path.join(d, "big.jsonl"), 40000, 120)
        os.mkdir(os.path.join(d, "sp"))
        for sig in [signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGHUP]:
            for args in [["clean", "-q", "--memory-limit", "4M", "--tmp-dir", "sp", "big.jsonl", "-o", "o.jsonl"],
                         ["clean", "-q", "big.jsonl", "--index", "i.ndx", "--update", "-o", "o2.jsonl"],
                         ["index", "build", "-q", "big.jsonl", "-o", "b.ndx"]]:
                for delay in [0.3, 1.5]:
                    write(os.path.join(d, "o.jsonl"), "old\n")
                    p = subprocess.Popen([B] + args, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    terminated_after(p, delay, sig, 30)
                    left = temps(d)
                    spool = os.listdir(os.path.join(d, "sp"))
                    code2, _, err2 = nd(args, d)
                    left2 = temps(d)
                    spool2 = os.listdir(os.path.join(d, "sp"))
                    ok = (sig == signal.SIGKILL or (not left and not spool)) and not left2 and not spool2 and code2 == 0
                    row(f"6: {signal.Signals(sig).name} at {delay}s, {' '.join(args[:2])}", f"neardup {' '.join(args)}", "no temp (or removed by the rerun)", f"exit {p.returncode}; temps {len(left)}, spool {len(spool)}; rerun exit {code2}, temps {len(left2)}, spool {len(spool2)}", ok)
                    remove(d, "i.ndx", "b.ndx")


def case_truncate():
    with tempfile.TemporaryDirectory() as d:
        chunk = "".join(json.dumps({"id": i, "text": words(120, seed=i)}) + "\n" for i in range(2000))
        for args in [["scan", "-q"], ["scan", "-q", "--memory-limit", "4M"], ["scan", "-q", "--no-mmap"]]:
            path = os.path.join(d, "log.jsonl")
            with open(path, "w") as f:
                for _ in range(30):
                    f.write(chunk)
            p = subprocess.Popen([B] + args + ["log.jsonl"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.4)
            os.truncate(path, 1000)
            err = p.stderr.read().decode()
            code = p.wait()
            row(f"5: truncated while read, {' '.join(args[1:])}", f"neardup {' '.join(args)} log.jsonl; truncate -s 1000 log.jsonl", "exit 0 or 2 with a message, no SIGBUS", f"exit {code}; {short(err, 80)}", code in (0, 2) and (code == 0 or "log.jsonl" in err))


def peak_rss(args, cwd, stdin=None, timeout=900):
    cmd = ["/usr/bin/time", "-f", "%M", B] + args
    p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace").strip().split("\n")
    try:
        kb = int(err[-1])
    except ValueError:
        kb = -1
    return p.returncode, kb // 1024, "\n".join(err[:-1])


def case_bombs(heavy):
    with tempfile.TemporaryDirectory() as d:
        text = (words(200, seed=1) + "\n\n").encode()
        size = (3 << 30) if heavy else (300 << 20)
        # A zstd bomb, a gzip bomb, a pzstd-like skippable frame, concatenated frames.
        raw = os.path.join(d, "raw.txt")
        with open(raw, "wb") as f:
            for _ in range(size // len(text)):
                f.write(text)
        subprocess.run(["zstd", "-q", "-3", raw, "-o", os.path.join(d, "bomb.txt.zst")], check=True)
        subprocess.run(["bash", "-c", f"gzip -1 -c {raw} > {d}/bomb.txt.gz"], check=True)
        skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"\0\0\0\0"
        write(os.path.join(d, "skip.zst"), skippable + open(os.path.join(d, "bomb.txt.zst"), "rb").read())
        # Concatenated frames: a small one then the bomb.
        small = subprocess.run(["zstd", "-q", "-c"], input=text, capture_output=True).stdout
        write(os.path.join(d, "concat.txt.zst"), small + open(os.path.join(d, "bomb.txt.zst"), "rb").read())
        os.remove(raw)
        for name in ["bomb.txt.zst", "bomb.txt.gz", "skip.zst", "concat.txt.zst"]:
            for limit in ["64M", None]:
                args = ["scan", "-q"] + (["--memory-limit", limit, "--tmp-dir", d] if limit else []) + [name]
                t = time.time()
                code, mib, err = peak_rss(args, d)
                row(f"7: {name} ({size >> 20} MiB of text) {'at ' + limit if limit else 'no limit'}", "neardup " + " ".join(args), "no abort; within the limit + allowance", f"exit {code}; peak {mib} MiB; {time.time() - t:.0f}s; {short(err, 60)}", code in (0, 1, 2) and "allocation" not in err and (limit is None or mib <= 64 + 200))
        # The same through standard input (no size to tell by), pzstd's frame first.
        data = open(os.path.join(d, "skip.zst"), "rb").read()
        for limit in ["64M", None]:
            args = ["scan", "-q"] + (["--memory-limit", limit, "--tmp-dir", d] if limit else []) + ["-"]
            code, mib, err = peak_rss(args, d, stdin=data)
            row(f"7/13: skippable-frame zstd on stdin {'at ' + limit if limit else 'no limit'}", "neardup " + " ".join(args) + " < skip.zst", "read as zstd; no abort", f"exit {code}; peak {mib} MiB; {short(err, 60)}", code in (0, 1, 2) and "allocation" not in err and (limit is None or mib <= 64 + 200))
        # Zeros: binary sniffing must stop early.
        subprocess.run(["bash", "-c", f"head -c {size} /dev/zero | zstd -q -c > {d}/zeros.zst"], check=True)
        code, mib, err = peak_rss(["scan", "-q", "zeros.zst"], d)
        row(f"7: {size >> 20} MiB of zeros in .zst", "neardup scan zeros.zst", "exit 2 binary, small memory", f"exit {code}; peak {mib} MiB; {short(err, 70)}", code == 2 and mib < 300)


def case_json():
    cases = {
        "deep nesting (200k [)": b'{"id": 1, "x": ' + b"[" * 200000 + b"]" * 200000 + b', "text": "a b c d e f"}\n',
        "huge number": b'{"id": 123456789012345678901234567890e99999, "text": "a b c d e f"}\n',
        "duplicate text keys": b'{"text": "one two three", "text": "four five six"}\n',
        "BOM": b'\xef\xbb\xbf{"text": "a b c d e f"}\n',
        "CRLF": b'{"text": "a b c d e f"}\r\n{"text": "a b c d e f"}\r\n',
        "NUL escaped": b'{"text": "a\\u0000b c d"}\n',
        "NUL raw": b'{"text": "a\x00b c d"}\n',
        "invalid UTF-8 in text": b'{"text": "a \xff\xfe b"}\n',
        "lone surrogate": b'{"text": "a \\ud800 b"}\n',
        "surrogate pair": b'{"text": "a \\ud83d\\ude00 b"}\n',
        "text a number": b'{"text": 5}\n',
        "text null": b'{"text": null}\n',
        "text an array": b'{"text": ["a", "b"]}\n',
        "text an object": b'{"text": {"a": 1}}\n',
        "top-level array": b'[{"text": "a"}]\n',
        "a string line": b'"text"\n',
        "trailing garbage": b'{"text": "a b c"} xyz\n',
        "empty lines only": b"\n\n\n",
        "no newline at end": b'{"text": "a b c"}',
        "id an object": b'{"id": {"a": [1, 2]}, "text": "a b c"}\n',
        "id with ANSI and newline": b'{"id": "x\\u001b[31m\\n::error::boom", "text": "a b c"}\n{"id": "y", "text": "a b c"}\n',
        "1 MB id": b'{"id": "' + b"i" * (1 << 20) + b'", "text": "a b c"}\n',
        "unterminated string": b'{"text": "a b c\n',
        "unicode escapes": b'{"text": "\\u00e9t\\u00e9 \\u2028 \\u0085 x"}\n',
    }
    with tempfile.TemporaryDirectory() as d:
        for name, data in cases.items():
            path = os.path.join(d, "in.jsonl")
            write(path, data)
            for cmd in [["scan", "-q"], ["clean", "-q", "-o", "out.jsonl", "--report", "rep.txt"], ["check", "-q", "--output-format", "github"]]:
                code, out, err = nd(cmd + ["in.jsonl"], d)
                text = err + out.decode("utf-8", "replace")
                injected = "\x1b" in text or any(line.startswith("::error::boom") for line in text.split("\n"))
                if os.path.exists(os.path.join(d, "rep.txt")):
                    rep = open(os.path.join(d, "rep.txt"), encoding="utf-8", errors="replace").read()
                    injected |= "\x1b" in rep or any(line.startswith("::error::boom") for line in rep.split("\n"))
                    os.remove(os.path.join(d, "rep.txt"))
                ok = not crashed(code, err) and not injected and (code != 2 or "in.jsonl" in err)
                row(f"JSON: {name}, {cmd[0]}", f"neardup {' '.join(cmd)} in.jsonl", "no panic; error names file:line", f"exit {code}; {short(err, 90)}", ok)
                remove(d, "out.jsonl")


def case_names():
    with tempfile.TemporaryDirectory() as d:
        names = ["new\nline.txt", "esc\x1b[31mred.txt", "cr\r::error::x.txt", "::error::lead.txt", "tab\tx.txt"]
        for n in names:
            write(os.path.join(d, n), TEXT)
        bad = os.path.join(d, b"bad\xff\xfe.txt".decode("utf-8", "surrogateescape"))
        bad2 = os.path.join(d, b"bad\xff\xfd.txt".decode("utf-8", "surrogateescape"))
        for p in [bad, bad2]:
            write(p, TEXT)
        binary = os.path.join(d, "bin\n::error::b.txt")
        write(binary, b"\0\0\0binary")
        everything = names + [os.path.basename(bad), os.path.basename(bad2)]
        for cmd in [["scan"], ["scan", "--json"], ["check", "--output-format", "github"], ["check"], ["scan", "--progress", "always"], ["scan", "--output-format", "jsonl"]]:
            code, out, err = nd(cmd + everything + [os.path.basename(binary)], d)
            text = out.decode("utf-8", "replace") + err
            lines = text.split("\n")
            injected = "\x1b[31m" in text or "\r" in text.replace("\r\x1b[K", "").replace("\x1b[K", "") and cmd[-1] != "always"
            workflow = [l for l in lines if l.startswith("::") and not l.startswith(("::warning file=", "::error file=", "::notice", "::warning ", "::error ", "::group", "::endgroup", "::warning::", "::notice::"))]
            workflow += [l for l in lines if l.startswith("::error::x") or l.startswith("::error::b") or l.startswith("::error::lead")]
            row(f"12: names with newline/ESC/CR/:: , {' '.join(cmd)}", f"neardup {' '.join(cmd)} <hostile names>", "no raw control characters, no workflow command", f"exit {code}; raw ESC/CR {injected}; workflow lines {workflow[:2]}", not crashed(code, err) and not injected and not workflow)
        # Distinct non-UTF-8 names stay distinct in the JSON report.
        code, out, err = nd(["scan", "--json", os.path.basename(bad), os.path.basename(bad2)], d)
        paths = set()
        try:
            rep = json.loads(out)
            paths = {i["path"] for i in rep["inputs"]}
        except ValueError:
            pass
        row("Smaller: non-UTF-8 names stay distinct", "neardup scan --json bad\\xff\\xfe.txt bad\\xff\\xfd.txt", "two paths", f"exit {code}; paths {sorted(map(str, paths))[:2] if paths else 'see report'}", code in (0, 1) and ("\\xff\\xfe" in out.decode("utf-8", "replace") or len(paths) == 2 or "fffe" in out.decode().lower()))
        # HTML: a script-closing id.
        with open(os.path.join(d, "h.jsonl"), "w") as f:
            for i in range(2):
                f.write(json.dumps({"id": "</script><script>alert(1)</script>", "text": words(50, seed=3)}) + "\n")
        code, _, err = nd(["scan", "-q", "h.jsonl", "--html", "page.html"], d)
        page = open(os.path.join(d, "page.html"), encoding="utf-8").read() if os.path.exists(os.path.join(d, "page.html")) else ""
        row("12: HTML report, id `</script><script>`", "neardup scan h.jsonl --html page.html", "no raw </script><script>alert", f"exit {code}; raw {'<script>alert(1)' in page}", code in (0, 1) and page and "<script>alert(1)" not in page)


def case_threads():
    with set_up() as d:
        for n in ["10000", "0", "1", "3"]:
            t = time.time()
            code, out, err = nd(["scan", "-q", "--threads", n, "r.jsonl"], d, timeout=120)
            row(f"10: --threads {n}", f"neardup scan -q --threads {n} r.jsonl", "quick, same report", f"exit {code}; {time.time() - t:.2f}s; {short(err, 60)}", code in (0, 1) and time.time() - t < 30)


def case_index_crafted():
    with set_up() as d:
        nd(["index", "build", "-q", "r.jsonl", "-o", "i.ndx"], d)
        data = bytearray(open(os.path.join(d, "i.ndx"), "rb").read())
        import random

        rng = random.Random(7)
        crashes = 0
        for trial in range(60):
            bad = bytearray(data)
            for _ in range(rng.choice([1, 2, 8])):
                pos = rng.randrange(len(bad))
                bad[pos] = rng.randrange(256)
            if trial % 10 == 9:
                bad = bad[: rng.randrange(len(bad))]
            write(os.path.join(d, "bad.ndx"), bad)
            for cmd in [["scan", "-q", "--index", "bad.ndx", "a.txt"], ["index", "stats", "bad.ndx"], ["index", "merge", "bad.ndx", "i.ndx", "-o", "m.ndx"]]:
                code, _, err = nd(cmd, d, timeout=60)
                if crashed(code, err):
                    crashes += 1
                    print(cmd, code, err[:300], file=sys.stderr)
        row("11: 60 corrupted indexes (random bytes, truncated)", "neardup scan --index bad.ndx; index stats; index merge", "no panic", f"{crashes} crashes", crashes == 0)

def case_inputs(heavy):
    with set_up() as d:
        # A directory with a symlink loop and a link to its parent.
        os.mkdir(os.path.join(d, "loop"))
        os.symlink(".", os.path.join(d, "loop", "self"))
        os.symlink("..", os.path.join(d, "loop", "up"))
        write(os.path.join(d, "loop", "x.txt"), TEXT)
        code, out, err = nd(["scan", "-q", "loop"], d, timeout=60)
        row("inputs: a directory with symlink loops", "neardup scan loop/ (loop/self -> ., loop/up -> ..)", "ends, each file once", f"exit {code}; {short(err, 80)}", code in (0, 1, 2) and not crashed(code, err))
        # A FIFO as an input, fed by a writer.
        fifo = os.path.join(d, "in.fifo")
        os.mkfifo(fifo)
        w = subprocess.Popen(["bash", "-c", f"cat {d}/r.jsonl > {fifo}"])
        code, out, err = nd(["scan", "-q", "--format", "jsonl", "--json", "in.fifo"], d, timeout=60)
        w.wait()
        row("inputs: a FIFO as an input", "neardup scan --format jsonl in.fifo", "read like a pipe", f"exit {code}; {len(out)} bytes of report; {short(err, 60)}", code == 0 and len(out) > 0)
        # A pipe by /proc/self/fd/N.
        r, wfd = os.pipe()
        os.write(wfd, open(os.path.join(d, "r.jsonl"), "rb").read()[:60000])
        os.close(wfd)
        code, out, err = nd(["scan", "-q", "--format", "jsonl", f"/proc/self/fd/{r}"], d, pass_fds=(r,), timeout=60)
        os.close(r)
        row("inputs: a pipe by /proc/self/fd/N", "neardup scan --format jsonl /proc/self/fd/N", "read like a pipe", f"exit {code}; {short(err, 60)}", code in (0, 1) and not crashed(code, err))
        if os.geteuid() == 0:
            zero = os.path.join(d, "zero")
            os.mknod(zero, 0o666 | stat.S_IFCHR, os.makedev(1, 5))
            code, out, err = nd(["scan", "-q", "zero"], d, timeout=60)
            row("inputs: an endless device (mknod zero)", "neardup scan ./zero", "refused quickly (binary or not a file)", f"exit {code}; {short(err, 90)}", code == 2 and not crashed(code, err))
            code, out, err = nd(["scan", "-q", "--text", "--memory-limit", "64M", "--tmp-dir", d, "zero"], d, timeout=60)
            row("inputs: an endless device with --text at 64M", "neardup scan --text --memory-limit 64M ./zero", "no abort (an error or a bounded run)", f"exit {code}; {short(err, 90)}", code in (0, 1, 2) and not crashed(code, err))
        # Empty and blank inputs.
        for name, data in [("empty.txt", b""), ("blank.txt", b"\n\n\n   \n"), ("empty.jsonl", b""), ("ws.jsonl", b"  \n\t\n")]:
            write(os.path.join(d, name), data)
            code, out, err = nd(["clean", "-q", name, "-o", "o-" + name], d)
            row(f"inputs: {name}", f"neardup clean {name} -o o-{name}", "exit 0, empty output", f"exit {code}; {short(err, 60)}", code == 0 and not crashed(code, err))
        # Many files under a small descriptor limit.
        many = os.path.join(d, "many")
        os.mkdir(many)
        for i in range(3000):
            write(os.path.join(many, f"f{i}.txt"), words(30, seed=i % 100) + "\n")
        p = subprocess.run(["bash", "-c", f"ulimit -n 64; exec {B} scan -q many"], cwd=d, capture_output=True)
        err = p.stderr.decode()
        row("inputs: 3,000 files under ulimit -n 64", "ulimit -n 64; neardup scan many/", "runs", f"exit {p.returncode}; {short(err, 80)}", p.returncode in (0, 1) and not crashed(p.returncode, err))
        p = subprocess.run(["bash", "-c", f"ulimit -n 64; exec {B} clean -q many --out-dir outmany"], cwd=d, capture_output=True)
        err = p.stderr.decode()
        row("inputs: 3,000 files --out-dir under ulimit -n 64", "ulimit -n 64; neardup clean many/ --out-dir outmany", "runs, or fails with nothing written", f"exit {p.returncode}; {short(err, 80)}; written {len(os.listdir(os.path.join(d, 'outmany'))) if os.path.isdir(os.path.join(d, 'outmany')) else 0}", (p.returncode == 0 or (p.returncode == 2 and not os.path.exists(os.path.join(d, "outmany")))) and not crashed(p.returncode, err))
        if heavy:
            # A 100 MB single line: as text and as one JSON record.
            line = words(3_000_000, seed=5)
            line = (line + " ") * ((100 << 20) // len(line) + 1)
            line = line[: 100 << 20]
            write(os.path.join(d, "line.txt"), line)
            write(os.path.join(d, "line.jsonl"), json.dumps({"text": line}) + "\n")
            for name in ["line.txt", "line.jsonl"]:
                for limit in [[], ["--memory-limit", "256M", "--tmp-dir", d]]:
                    t = time.time()
                    code, mib, err = peak_rss(["scan", "-q", *limit, name], d)
                    row(f"JSON/text: a {os.path.getsize(os.path.join(d, name)) >> 20} MiB single line ({name}) {' '.join(limit[:2])}", f"neardup scan {' '.join(limit[:2])} {name}", "no abort; a clear error or a bounded run", f"exit {code}; peak {mib} MiB; {time.time() - t:.0f}s; {short(err, 80)}", code in (0, 1, 2) and not crashed(code, err))


def case_more_writes():
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 3000, 150)
        nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
        nd(["index", "build", "-q", "big.jsonl", "-o", "big.ndx"], d)
        with tmpfs(d) as mnt:
            if mnt is not None:
                for args, what in [
                    (["clean", "-q", "big.jsonl", "-o", "small/o.jsonl.zst"], "-o .zst"),
                    (["clean", "-q", "big.jsonl", "-o", "small/o.jsonl.gz", "--memory-limit", "1M"], "-o .gz in chunks"),
                    (["clean", "-q", "big.jsonl", "--index", "u.ndx", "--update", "-o", "o.jsonl", "--html", "small/p.html"], "--html with --update"),
                    (["check", "-q", "big.jsonl", "--index", "u.ndx", "--update", "--step-summary", "small/sum.md"], "check --step-summary with --update"),
                    (["index", "merge", "big.ndx", "u.ndx", "-o", "small/m.ndx"], "index merge"),
                    (["clean", "-q", "big.jsonl", "--index", "small/new.ndx", "--update", "-o", "o2.jsonl"], "a new --update index"),
                ]:
                    fill(mnt)
                    before = sha(os.path.join(d, "u.ndx"))
                    code, _, err = nd(args, d)
                    os.remove(os.path.join(mnt, "fill"))
                    left = [f for f in os.listdir(mnt)]
                    ok = code == 2 and sha(os.path.join(d, "u.ndx")) == before and not left and not os.path.exists(os.path.join(d, "o.jsonl")) and not os.path.exists(os.path.join(d, "o2.jsonl"))
                    row(f"3: disk full: {what}", "neardup " + " ".join(args), "exit 2, nothing written or changed", f"exit {code}; index {'unchanged' if sha(os.path.join(d, 'u.ndx')) == before else 'CHANGED'}; left {left}; {short(err, 60)}", ok)
        # Two updates of one index at once: both batches land.
        for i in range(2):
            with open(os.path.join(d, f"batch{i}.jsonl"), "w") as f:
                for j in range(500):
                    f.write(json.dumps({"id": f"b{i}-{j}", "text": words(100, seed=10_000 * (i + 1) + j)}) + "\n")
        ps = [subprocess.Popen([B, "clean", "-q", f"batch{i}.jsonl", "--index", "c.ndx", "--update", "-o", f"ob{i}.jsonl"], cwd=d, stderr=subprocess.PIPE) for i in range(2)]
        codes = [p.wait() for p in ps]
        code, out, err = nd(["index", "stats", "--json", "c.ndx"], d)
        try:
            stats = json.loads(out)
        except ValueError:
            stats = {}
        docs = stats.get("documents", stats.get("items", {}))
        row("1/3: two --update runs on one index at once", "neardup clean batch0 --index c.ndx --update & neardup clean batch1 --index c.ndx --update", "both exit 0; the index holds both batches", f"exits {codes}; stats {json.dumps(docs)[:80]}", codes == [0, 0] and "1000" in json.dumps(stats))

def case_stdout():
    with set_up() as d:
        nd(["index", "build", "-q", "r.jsonl", "-o", "i.ndx"], d)
        before = {p: sha(os.path.join(d, p)) for p in ["r.jsonl", "i.ndx"]}
        for args, target in [(["clean", "-q", "r.jsonl"], "r.jsonl"), (["scan", "-q", "r.jsonl"], "r.jsonl"), (["check", "-q", "r.jsonl"], "r.jsonl"),
                             (["scan", "-q", "a.txt", "--index", "i.ndx"], "i.ndx"), (["index", "stats", "i.ndx"], "i.ndx")]:
            with open(os.path.join(d, target), "ab") as out:
                code, _, err = nd(args, d, stdout=out)
            after = {p: sha(os.path.join(d, p)) for p in before}
            row(f"1: standard output appended to the {'input' if target == 'r.jsonl' else 'index'}", f"neardup {' '.join(args)} >> {target}", "exit 2, nothing changed", f"exit {code}; {'unchanged' if after == before else 'CHANGED'}; {short(err, 70)}", code == 2 and after == before)
            before = after
        with open(os.path.join(d, "bad.jsonl"), "w") as f:
            f.write(records(400))
            f.write('{"text": 5}\n')
        with open(os.path.join(d, "so.jsonl"), "wb") as out:
            code, _, err = nd(["clean", "-q", "--memory-limit", "64K", "--tmp-dir", d, "bad.jsonl"], d, stdout=out)
        size = os.path.getsize(os.path.join(d, "so.jsonl"))
        row("3: a run in chunks failing at its last record, stdout a file", "neardup clean --memory-limit 64K bad.jsonl > so.jsonl", "exit 2, no partial output", f"exit {code}; {size} bytes left; {short(err, 60)}", code == 2 and size == 0)


def case_stdin():
    """Session 17: standard input from a regular file is an input too."""
    with set_up() as d:
        os.symlink("r.jsonl", os.path.join(d, "link.jsonl"))
        os.link(os.path.join(d, "r.jsonl"), os.path.join(d, "hard.jsonl"))
        for limit in [[], ["--memory-limit", "1M", "--tmp-dir", d]]:
            for args in [["clean", "-q", *limit, "-", "-o", "r.jsonl"], ["clean", "-q", *limit, "-", "-o", "link.jsonl"],
                         ["clean", "-q", *limit, "-", "-o", "o.jsonl", "--report", "hard.jsonl"], ["clean", "-q", *limit, "-", "-o", "o.jsonl", "--html", "r.jsonl"],
                         ["index", "build", "-q", *limit, "-", "-o", "r.jsonl"]]:
                with open(os.path.join(d, "r.jsonl"), "w") as f:  # as it was, whatever the last case did
                    f.write(records())
                before = sha(os.path.join(d, "r.jsonl"))
                with open(os.path.join(d, "r.jsonl"), "rb") as stdin:
                    p = subprocess.run([B] + args, cwd=d, stdin=stdin, capture_output=True, timeout=120)
                err = p.stderr.decode("utf-8", "replace")
                same = sha(os.path.join(d, "r.jsonl")) == before
                row(f"1: stdin = {args[-1]} ({args[-2]}) {' '.join(limit[:2])}", f"neardup {' '.join(args)} < r.jsonl", "exit 2, input unchanged", f"exit {p.returncode}; input {'unchanged' if same else 'CHANGED'}; {short(err, 70)}", p.returncode == 2 and same)
            for args in [["clean", "-q", *limit, "-"], ["scan", "-q", *limit, "-"]]:
                write(os.path.join(d, "r.jsonl"), records())
                before = sha(os.path.join(d, "r.jsonl"))
                with open(os.path.join(d, "r.jsonl"), "rb") as stdin, open(os.path.join(d, "r.jsonl"), "ab") as out:
                    p = subprocess.run([B] + args, cwd=d, stdin=stdin, stdout=out, stderr=subprocess.PIPE, timeout=120)
                err = p.stderr.decode("utf-8", "replace")
                same = sha(os.path.join(d, "r.jsonl")) == before
                row(f"1: stdin and stdout one file, {args[0]} {' '.join(limit[:2])}", f"neardup {' '.join(args)} < r.jsonl >> r.jsonl", "exit 2, input unchanged", f"exit {p.returncode}; input {'unchanged' if same else 'CHANGED'}; {short(err, 70)}", p.returncode == 2 and same)


def case_paths():
    """Session 17: out-dirs and inputs that overlap by links and nesting."""
    with set_up() as d:
        tree = os.path.join(d, "tree")
        os.makedirs(os.path.join(tree, "s1"))
        for i in range(4):
            write(os.path.join(tree, f"f{i}.jsonl"), records(30))
            write(os.path.join(tree, "s1", f"g{i}.jsonl"), records(20))
        files = [os.path.join("tree", "f0.jsonl"), os.path.join("tree", "s1", "g0.jsonl")]

        def fresh(name):
            path = os.path.join(d, name)
            subprocess.run(["rm", "-rf", path])
            os.mkdir(path)
            return path

        code, _, err = nd(["clean", "-q", "tree", "--out-dir", "tree/out"], d)
        row("1: --out-dir inside its input dir (first run)", "neardup clean tree --out-dir tree/out", "exit 0", f"exit {code}; {short(err, 60)}", code == 0)
        refused("1: --out-dir inside its input dir (second run reads it)", ["clean", "-q", "tree", "--out-dir", "tree/out"], d, files + ["tree/out/f0.jsonl"])
        subprocess.run(["rm", "-rf", os.path.join(tree, "out")])
        o = fresh("o1")
        os.symlink("../tree/f0.jsonl", os.path.join(o, "f0.jsonl"))
        refused("1: --out-dir file a symlink to its input", ["clean", "-q", "tree", "--out-dir", "o1"], d, files)
        o = fresh("o2")
        os.symlink("../tree/s1", os.path.join(o, "s1"))
        refused("1: --out-dir subdirectory a symlink into the input", ["clean", "-q", "tree", "--out-dir", "o2"], d, files)
        os.symlink("tree", os.path.join(d, "o3"))
        refused("1: --out-dir a symlink to the input dir", ["clean", "-q", "tree", "--out-dir", "o3"], d, files)
        o = fresh("o4")
        os.link(os.path.join(tree, "f0.jsonl"), os.path.join(o, "f0.jsonl"))
        refused("1: --out-dir file a hard link of its input", ["clean", "-q", "tree", "--out-dir", "o4"], d, files)
        # Read once, with a warning (lead, session 26; refused before, as two
        # inputs with one output path).
        code, _, err = nd(["clean", "a.txt", "./a.txt", "--out-dir", "o5"], d)
        row("1: one file twice into --out-dir", "neardup clean a.txt ./a.txt --out-dir o5", "exit 0, read once with a warning, o5/a.txt written once",
            f"exit {code}; {short(err)}", code == 0 and "the same file as a.txt: read once" in err and os.listdir(os.path.join(d, "o5")) == ["a.txt"])
        os.makedirs(os.path.join(d, "d1"))
        os.makedirs(os.path.join(d, "d2"))
        for n in ["d1", "d2"]:
            write(os.path.join(d, n, "x.txt"), TEXT + n + "\n")
        refused("1: two dirs with one file name into one --out-dir", ["clean", "-q", "d1", "d2", "--out-dir", "o6"], d, ["d1/x.txt", "d2/x.txt"])
        os.mkdir(os.path.join(d, "in2"))
        write(os.path.join(d, "in2", "r.jsonl"), records())
        write(os.path.join(d, "o7.jsonl"), "old\n")
        os.symlink("../o7.jsonl", os.path.join(d, "in2", "zz.jsonl"))
        refused("1: input dir holds a link to -o", ["clean", "-q", "in2", "-o", "o7.jsonl"], d, ["o7.jsonl"])
        nd(["index", "build", "-q", "a.txt", "-o", "i3.ndx"], d)
        os.mkdir(os.path.join(d, "in3"))
        os.symlink("../i3.ndx", os.path.join(d, "in3", "i.ndx"))
        # (A directory with nothing else to read is an error since session
        # 25: it holds a batch beside the link.)
        write(os.path.join(d, "in3", "r.jsonl"), records())
        # Session 19: a walk passes over neardup indexes (and links to them):
        # the index is updated, never read as text.
        passed_over("1: input dir holds a link to the --update index", ["clean", "-q", "in3", "--index", "i3.ndx", "--update", "-o", "o8.jsonl"], d, "i3.ndx")
        os.mkdir(os.path.join(d, "w"))
        code, _, err = nd(["clean", "-q", "../a.txt", "--out-dir", "out"], os.path.join(d, "w"))
        inside = os.path.isfile(os.path.join(d, "w", "out", "a.txt"))
        row("1: ../input into --out-dir stays inside it", "cd w; neardup clean ../a.txt --out-dir out", "exit 0, out/a.txt", f"exit {code}; inside {inside}", code == 0 and inside)
        # A file where the tree needs a directory, and the reverse.
        for name, blocker in [("o9", "s1"), ("o10", "s1/g1.jsonl")]:
            o = fresh(name)
            write(os.path.join(o, "f0.jsonl"), "old\n")
            if blocker == "s1":
                write(os.path.join(o, "s1"), "old\n")
            else:
                os.makedirs(os.path.join(o, blocker))
            code, _, err = nd(["clean", "-q", "tree", "--out-dir", name], d)
            row(f"4: --out-dir blocked by {'a file' if blocker == 's1' else 'a directory'} at {blocker}", f"neardup clean tree --out-dir {name}", "exit 2, nothing written", f"exit {code}; f0 {'old' if old(os.path.join(o, 'f0.jsonl')) else 'CHANGED'}; temps {len(temps(o))}; {short(err, 60)}", code == 2 and old(os.path.join(o, "f0.jsonl")) and not temps(o))
        # Special files in a walked directory, a socket named.
        sp = os.path.join(d, "specials")
        os.mkdir(sp)
        write(os.path.join(sp, "a.txt"), TEXT)
        os.mkfifo(os.path.join(sp, "p.txt"))
        import socket
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(os.path.join(sp, "s.txt"))
        if os.geteuid() == 0:
            os.mknod(os.path.join(sp, "zero"), 0o666 | stat.S_IFCHR, os.makedev(1, 5))
        code, _, err = nd(["scan", "-q", "specials"], d, timeout=60)
        row("inputs: FIFO (no writer), socket, device in a walked dir", "neardup scan specials/", "no hang; the text file read", f"exit {code}; {short(err, 60)}", code in (0, 1))
        code, _, err = nd(["scan", "-q", "specials/s.txt"], d, timeout=60)
        row("inputs: a socket named as input", "neardup scan specials/s.txt", "exit 2 naming it", f"exit {code}; {short(err, 60)}", code == 2 and "s.txt" in err)
        sock.close()


def case_readonly():
    """Session 17: a read-only file system (tmpfs remounted read-only)."""
    with set_up() as d:
        with tmpfs(d, "4m") as mnt:
            if mnt is None:
                row("faults: read-only", "mount tmpfs", "", "skipped (not root)", True)
                return
            write(os.path.join(mnt, "o.jsonl"), "old\n")
            nd(["index", "build", "-q", "r.jsonl", "-o", "small/i.ndx"], d)
            before = sha(os.path.join(mnt, "i.ndx"))
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            for args in [["clean", "-q", "r.jsonl", "-o", "small/o.jsonl"], ["clean", "-q", "r.jsonl", "-o", "small/new/o.jsonl"],
                         ["clean", "-q", "a.txt", "sub/b.txt", "--out-dir", "small/od"], ["clean", "-q", "a.txt", "--index", "small/i.ndx", "--update", "-o", "ok.txt"],
                         ["scan", "-q", "--memory-limit", "1M", "--tmp-dir", "small", "-"], ["index", "build", "-q", "r.jsonl", "-o", "small/j.ndx"],
                         ["index", "merge", "small/i.ndx", "small/i.ndx", "-o", "m.ndx"]]:
                code, _, err = nd(args, d, stdin=open(os.path.join(d, "r.jsonl"), "rb").read() if "-" in args else None)
                ok = code == 2 and old(os.path.join(mnt, "o.jsonl")) and sha(os.path.join(mnt, "i.ndx")) == before and not os.path.exists(os.path.join(d, "ok.txt")) and err.startswith("neardup:")
                row(f"faults: read-only target, {' '.join(a for a in args[:2] if a != '-q')} {args[-1]}", "neardup " + " ".join(args), "exit 2 with a message, nothing changed", f"exit {code}; {short(err, 70)}", ok)
            code, out, err = nd(["scan", "-q", "a.txt", "--index", "small/i.ndx"], d)
            row("faults: a read-only index is read", "neardup scan a.txt --index small/i.ndx (ro)", "exit 0 or 1", f"exit {code}; {short(err, 60)}", code in (0, 1))


def case_compressed():
    """Session 17: cut, empty, concatenated and foreign compressed inputs
    (session 19: an empty file named as compressed holds no documents, as an
    empty plain file does)."""
    with set_up() as d:
        r = open(os.path.join(d, "r.jsonl"), "rb").read()
        gz = subprocess.run(["gzip", "-c"], input=r, capture_output=True).stdout
        zs = subprocess.run(["zstd", "-q", "-c"], input=r, capture_output=True).stdout
        skip = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"\0\0\0\0"
        cases = {
            "cut.jsonl.gz": (gz[: len(gz) // 2], 2), "cut.jsonl.zst": (zs[: len(zs) // 2], 2),
            "empty.jsonl.gz": (b"", 0), "empty.jsonl.zst": (b"", 0), "header.txt.gz": (b"\x1f\x8b", 2),
            "garbage.jsonl.gz": (gz + b"garbage\n", 2), "badframe.jsonl.zst": (b"\x28\xb5\x2f\xfd" + b"\xff" * 100, 2),
            "two-members.jsonl.gz": (gz + gz, 0), "skippable-between.jsonl.zst": (zs + skip + zs + skip, 0), "only-skippable.jsonl.zst": (skip, 0),
        }
        for name, (data, want) in cases.items():
            write(os.path.join(d, name), data)
            for limit in [[], ["--memory-limit", "1M", "--tmp-dir", d]]:
                code, _, err = nd(["scan", "-q", *limit, name], d)
                row(f"7: {name} {' '.join(limit[:2])}", f"neardup scan {' '.join(limit[:2])} {name}", f"exit {want}" + (", names the file" if want else ""), f"exit {code}; {short(err, 70)}", code == want and (want == 0 or name in err) and not crashed(code, err))
            code, _, err = nd(["scan", "-q", "-"], d, stdin=data)
            row(f"7: {name} on stdin", f"neardup scan - < {name}", f"exit {want}", f"exit {code}; {short(err, 60)}", (code == want or (want == 2 and code == 2) or (data == b"" and code == 0)) and not crashed(code, err))
        for tool, ext in [("bzip2", "bz2"), ("xz", "xz")]:
            p = subprocess.run([tool, "-c"], input=r, capture_output=True)
            if p.returncode != 0:
                continue
            write(os.path.join(d, f"c.jsonl.{ext}"), p.stdout)
            code, _, err = nd(["scan", "-q", f"c.jsonl.{ext}"], d)
            row(f"inputs: an unsupported .{ext} alone", f"neardup scan -q c.jsonl.{ext}", "exit 2 saying why (binary), naming it", f"exit {code}; {short(err, 90)}", code == 2 and f"c.jsonl.{ext}" in err)
        write(os.path.join(d, "n.bin"), b"x\0y")
        code, _, err = nd(["scan", "-q", "--memory-limit", "1M", "--tmp-dir", d, "n.bin"], d)
        row("inputs: only a binary file, in chunks", "neardup scan -q --memory-limit 1M n.bin", "exit 2 saying why, naming it", f"exit {code}; {short(err, 90)}", code == 2 and "n.bin: binary file" in err)


def case_messages():
    """Session 17: control characters in values echoed by error messages."""
    with set_up() as d:
        evil = "x\n::error::E\x1b[31m"
        for args in [["scan", "--text-field", evil, "r.jsonl"], ["scan", "--index", evil, "r.jsonl"], ["scan", "--glob", "[" + evil, "."],
                     ["scan", "--memory-limit", evil, "r.jsonl"], ["scan", "--keep", "newest:" + evil, "r.jsonl"], ["clean", "r.jsonl", "-o", "missing/" + evil + "/x/../../y", "--tmp-dir", "a.txt"],
                     ["scan", "--on-error", "skip", evil], ["index", "stats", evil], ["check", "--output-format", "github", evil]]:
            code, out, err = nd(args, d)
            text = err + out.decode("utf-8", "replace")
            raw = "\x1b" in text or any(line.startswith("::error::E") for line in text.split("\n"))
            row(f"12: a value with newline/ESC echoed ({args[1]})", "neardup " + " ".join(a.replace("\n", "\\n").replace("\x1b", "\\e") for a in args), "no raw control characters", f"exit {code}; raw {raw}; {short(err.replace(chr(27), '<ESC>'), 60)}", not raw and not crashed(code, err))


def case_flags():
    """Session 17: extreme numbers for every numeric flag."""
    with set_up() as d:
        big = "18446744073709551615"
        for flags in [["--block-shingle", big], ["--doc-shingle", "4294967296"], ["--num-perm", "0"], ["--num-perm", "100000000"], ["--bands", "0", "--rows", "4"],
                      ["--bands", "1000000", "--rows", "1"], ["--hamming", "1000000"], ["--max-gap", big], ["--min-words", big], ["--min-words", "0"], ["--top", big],
                      ["--preview", big], ["--seed", big], ["--memory-limit", "1.5G"], ["--memory-limit", "+1G"], ["--memory-limit", "1KiB"], ["--memory-limit", "0x100M"]]:
            code, out, err = nd(["scan", "-q", *flags, "r.jsonl"], d, timeout=120)
            row(f"flags: {' '.join(flags)}", f"neardup scan {' '.join(flags)} r.jsonl", "no panic; 0/1 or exit 2 with a message", f"exit {code}; {short(err, 70)}", not crashed(code, err) and (code != 2 or err.startswith(("neardup:", "error:"))))
        for share in ["nan", "101%", "1e400", "", "0", "0.5"]:
            code, out, err = nd(["check", "-q", "--max-dup-docs", share, "r.jsonl"], d)
            row(f"flags: check --max-dup-docs {share!r}", f"neardup check --max-dup-docs '{share}' r.jsonl", "no panic", f"exit {code}; {short(err, 60)}", not crashed(code, err))
        p = subprocess.run(["bash", "-c", f"ulimit -v 600000; exec {B} scan -q --memory-limit 64M --tmp-dir . r.jsonl"], cwd=d, capture_output=True)
        err = p.stderr.decode()
        row("7/8: ulimit -v 600000 with --memory-limit 64M", "ulimit -v 600000; neardup scan --memory-limit 64M r.jsonl", "no abort", f"exit {p.returncode}; {short(err, 60)}", p.returncode in (0, 1) and not crashed(p.returncode, err))


def case_kill_out_dir():
    """Session 17: SIGKILL in a chunked --out-dir run; the same command again cleans up."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "tree"))
        for i in range(12):
            write_records(os.path.join(d, "tree", f"f{i:02}.jsonl"), 1500, 120)
        os.mkdir(os.path.join(d, "sp"))
        args = ["clean", "-q", "--memory-limit", "4M", "--tmp-dir", "sp", "tree", "--out-dir", "out"]
        for delay in [2, 5]:
            subprocess.run(["rm", "-rf", os.path.join(d, "out")])
            os.mkdir(os.path.join(d, "out"))
            write(os.path.join(d, "out", "f00.jsonl"), "old\n")
            p = subprocess.Popen([B] + args, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            terminated_after(p, delay, signal.SIGKILL)
            left = temps(os.path.join(d, "out"))
            intact = old(os.path.join(d, "out", "f00.jsonl"))
            code, _, err = nd(args, d, timeout=900)
            row(f"6: SIGKILL at {delay}s in a chunked --out-dir run, then the same run", "neardup " + " ".join(args), "old file intact after the kill; no temp after the rerun", f"killed {p.returncode}; intact {intact}; temps {len(left)} then {len(temps(os.path.join(d, 'out')))}; rerun exit {code}", (intact or p.returncode == 0) and code == 0 and not temps(os.path.join(d, "out")))


def case_s18_walk():
    """Session 18: a walked input directory that the run (or an earlier one) writes into."""
    with set_up() as d:
        os.mkdir(os.path.join(d, "dir"))
        for n, k in [("x.jsonl", 40), ("y.jsonl", 30)]:
            write(os.path.join(d, "dir", n), records(k))
        for args, made in [(["index", "build", "-q", "dir", "-o", "dir/i.ndx"], "dir/i.ndx"), (["clean", "-q", "dir", "-o", "dir/o.jsonl"], "dir/o.jsonl"),
                           (["clean", "-q", "dir", "-o", "o.jsonl", "--report", "dir/rep.txt"], "dir/rep.txt"), (["clean", "-q", "dir", "-o", "o.jsonl", "--html", "dir/p.html"], "dir/p.html"),
                           (["clean", "-q", "dir", "-o", "o.jsonl", "--index", "dir/u.ndx", "--update"], "dir/u.ndx"), (["clean", "-q", "dir", "--out-dir", "dir/out"], "dir/out/x.jsonl")]:
            code1, _, err1 = nd(args, d)
            if made.endswith(".ndx"):
                # Session 19: the walk passes over the index the first run made.
                passed_over(f"s18: second run writing into its walked dir ({made})", args, d, made)
            else:
                refused(f"s18: second run writing into its walked dir ({made})", args, d, [made, "dir/x.jsonl"])
            # What the first run left (its output, an index's lock file) goes.
            for n in os.listdir(os.path.join(d, "dir")):
                if n not in ("x.jsonl", "y.jsonl"):
                    subprocess.run(["rm", "-rf", os.path.join(d, "dir", n)])
        code, _, err = nd(["clean", "-q", "--memory-limit", "64K", "--tmp-dir", "dir/sp", "dir", "-o", "o.jsonl"], d)
        row("s18: --tmp-dir inside the walked input dir", "neardup clean --memory-limit 64K --tmp-dir dir/sp dir -o o.jsonl", "exit 0, no spool file read, dir/sp not left", f"exit {code}; sp left {os.path.exists(os.path.join(d, 'dir', 'sp'))}; {short(err, 60)}", code == 0 and not os.path.exists(os.path.join(d, "dir", "sp")))


def case_s18_tmp():
    """Session 18: TMPDIR and --tmp-dir missing, a file, full."""
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 3000, 150)
        code, _, err = nd(["scan", "-q", "--memory-limit", "64K", "r.jsonl"], d, env={"TMPDIR": os.path.join(d, "a.txt")})
        row("s18: TMPDIR a file", "TMPDIR=a.txt neardup scan --memory-limit 64K r.jsonl", "exit 2 saying not a directory, file intact", f"exit {code}; {short(err, 80)}", code == 2 and "not a directory" in err and sha(os.path.join(d, "a.txt")) != "")
        for how, args, env in [("TMPDIR", ["scan", "-q", "--memory-limit", "64K", "r.jsonl"], {"TMPDIR": os.path.join(d, "gone", "t")}),
                               ("--tmp-dir", ["scan", "-q", "--memory-limit", "64K", "--tmp-dir", "gone/t", "r.jsonl"], None)]:
            code, _, err = nd(args, d, env=env)
            row(f"s18: {how} missing", "neardup " + " ".join(args), "exit 0/1, the directory made for the run not left", f"exit {code}; left {os.path.exists(os.path.join(d, 'gone'))}", code in (0, 1) and not os.path.exists(os.path.join(d, "gone")))
        with tmpfs(d) as mnt:
            if mnt is None:
                return
            write(os.path.join(d, "o.jsonl"), "old\n")
            code, _, err = nd(["clean", "-q", "--memory-limit", "1M", "--tmp-dir", "small", "big.jsonl", "-o", "o.jsonl"], d)
            row("s18: --tmp-dir on a full tmpfs", "neardup clean --memory-limit 1M --tmp-dir small big.jsonl -o o.jsonl", "exit 2, output old, spool empty", f"exit {code}; out {'old' if old(os.path.join(d, 'o.jsonl')) else 'CHANGED'}; spool {os.listdir(mnt)}; {short(err, 60)}", code == 2 and old(os.path.join(d, "o.jsonl")) and not os.listdir(mnt))


def case_s18_many():
    """Session 18: 10,000 tiny files into --out-dir (paths compared pairwise made it quadratic)."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "many"))
        for i in range(10000):
            write(os.path.join(d, "many", f"f{i:05}.txt"), f"word{i} other{i % 7} thing{i % 13}\n")
        t = time.time()
        try:
            code, _, err = nd(["clean", "-q", "many", "--out-dir", "out"], d, timeout=240)
        except subprocess.TimeoutExpired:
            code, err = -1, "timeout 240 s"
        n = len(os.listdir(os.path.join(d, "out"))) if os.path.isdir(os.path.join(d, "out")) else 0
        row("s18: 10,000 tiny files --out-dir", "neardup clean many/ --out-dir out", "ends within 240 s, every file written", f"exit {code}; {time.time() - t:.0f}s; {n} files; {short(err, 60)}", code == 0 and n == 10000)


def case_s18_parquet():
    """Session 18: Parquet files cut, with a wrong magic, a huge footer length, 400 mutated."""
    src = "/tmp/pytest-of-root/pytest-12/test_parquet_inputs_equal_the_2/in/part-0.parquet"
    if not os.path.exists(src):
        row("s18: parquet", "", "", "skipped (no Parquet file to mutate)", True)
        return
    import random
    data = open(src, "rb").read()
    flen = int.from_bytes(data[-8:-4], "little")
    fstart = len(data) - 8 - flen
    with tempfile.TemporaryDirectory() as d:
        fixed = {"cut footer": data[:-20], "magic PAR2": b"PAR2" + data[4:], "footer length 2^32-1": data[:-8] + (0xFFFFFFFF).to_bytes(4, "little") + b"PAR1",
                 "footer length 0": data[:-8] + bytes(4) + b"PAR1", "only PAR1PAR1": b"PAR1PAR1", "empty": b"", "text": b"hello world\n"}
        for name, bad in fixed.items():
            write(os.path.join(d, "bad.parquet"), bad)
            code, _, err = nd(["scan", "-q", "bad.parquet"], d, timeout=60)
            row(f"s18: Parquet {name}", "neardup scan bad.parquet", "exit 2 naming it", f"exit {code}; {short(err, 70)}", code == 2 and "bad.parquet" in err)
        rng = random.Random(18)
        crashes = 0
        for t in range(400):
            bad = bytearray(data)
            for _ in range(rng.choice([1, 2, 4, 16])):
                pos = rng.randrange(fstart, len(data) - 8) if t % 2 else rng.randrange(len(data))
                bad[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
            write(os.path.join(d, "bad.parquet"), bad)
            for args in (["scan", "-q"], ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", d, "-o", "o.parquet"]):
                try:
                    code, _, err = nd(args + ["bad.parquet"], d, timeout=60)
                except subprocess.TimeoutExpired:
                    code, err = -1, "timeout"
                crashes += crashed(code, err)
        row("s18: 400 mutated Parquet files (half in the footer)", "neardup scan / clean --memory-limit 1M bad.parquet", "no panic, abort or hang", f"{crashes} crashes", crashes == 0)



def case_s20_pipes():
    """Session 20: inputs read only once, named by path: a FIFO (plain, and
    named *.jsonl.gz) and bash's `<(cmd)` (/dev/fd/N), whole and in chunks;
    the output must be the regular file's, without waiting for ever."""
    with set_up() as d:
        with open(os.path.join(d, "r.jsonl.gz"), "wb") as f:
            import gzip
            f.write(gzip.compress(open(os.path.join(d, "r.jsonl"), "rb").read()))
        os.mkdir(os.path.join(d, "sp"))
        nd(["clean", "-q", "r.jsonl", "-o", "want.jsonl"], d)
        nd(["clean", "-q", "a.txt", "-o", "want.txt"], d)
        want = {"r.jsonl": sha(os.path.join(d, "want.jsonl")), "r.jsonl.gz": sha(os.path.join(d, "want.jsonl")), "a.txt": sha(os.path.join(d, "want.txt"))}
        chunked = ["--memory-limit", "64K", "--tmp-dir", "sp"]
        for source, fifo, flags in [("r.jsonl", "in.fifo", []), ("r.jsonl", "in.fifo", ["--format", "jsonl"]), ("r.jsonl", "in.fifo", chunked),
                                    ("r.jsonl", "in.fifo", chunked + ["--format", "jsonl"]), ("a.txt", "in.fifo", chunked),
                                    ("r.jsonl.gz", "in.jsonl.gz", []), ("r.jsonl.gz", "in.jsonl.gz", chunked)]:
            path = os.path.join(d, fifo)
            if os.path.exists(path):
                os.remove(path)
            os.mkfifo(path)
            out = os.path.join(d, "o")
            if os.path.exists(out):
                os.remove(out)
            # One writer, opening the FIFO once.
            w = subprocess.Popen(["bash", "-c", f"cat {source} > {fifo}"], cwd=d)
            try:
                code, _, err = nd(["clean", "-q", *flags, fifo, "-o", "o"], d, timeout=60)
            except subprocess.TimeoutExpired:
                code, err = None, "HANG (killed after 60 s)"
            if w.poll() is None:
                os.close(os.open(path, os.O_RDWR))  # lets a waiting writer go
                w.wait()
            got = sha(out)
            row(f"s20-pipes: FIFO {fifo} from {source} {' '.join(flags[:2] + flags[4:])}", f"cat {source} > {fifo} & neardup clean {' '.join(flags)} {fifo} -o o", "exit 0, the regular file's output", f"exit {code}; {'same' if got == want[source] else 'DIFFERENT ' + got}; {short(err, 60)}", code == 0 and got == want[source])
        for source, flags in [("r.jsonl", chunked), ("r.jsonl", chunked + ["--format", "jsonl"]), ("a.txt", chunked), ("r.jsonl", [])]:
            out = os.path.join(d, "o")
            if os.path.exists(out):
                os.remove(out)
            p = subprocess.run(["bash", "-c", f"exec \"$0\" clean -q {' '.join(flags)} <(cat {source}) -o o", B], cwd=d, capture_output=True, timeout=60)
            got = sha(out)
            err = p.stderr.decode()
            row(f"s20-pipes: <(cat {source}) {' '.join(flags[:2] + flags[4:])}", f"neardup clean {' '.join(flags)} <(cat {source}) -o o", "exit 0, the regular file's output", f"exit {p.returncode}; {'same' if got == want[source] else 'DIFFERENT ' + got}; {short(err, 60)}", p.returncode == 0 and got == want[source])


def case_s20_signals():
    """Session 20: SIGTERM/SIGINT during `index merge` and during a whole and
    a chunked `--out-dir` run (staging, then the renames): no temporary left,
    the out-dir's files all old or all new."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "tree"))
        os.mkdir(os.path.join(d, "sp"))
        for i in range(8):
            write_records(os.path.join(d, "tree", f"f{i}.jsonl"), 3000, 120)
        write_records(os.path.join(d, "big.jsonl"), 20000, 100)
        nd(["index", "build", "-q", "tree", "-o", "a.ndx"], d)
        nd(["index", "build", "-q", "big.jsonl", "-o", "b.ndx"], d)
        for sig in [signal.SIGTERM, signal.SIGINT]:
            for delay in [0.5, 2.0]:
                p = subprocess.Popen([B, "index", "merge", "a.ndx", "b.ndx", "-o", "m.ndx"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(delay)
                p.send_signal(sig)
                p.wait(60)
                left = temps(d)
                made = os.path.exists(os.path.join(d, "m.ndx"))
                ok = not left and (p.returncode == 0 or not made)
                row(f"s20-signals: {signal.Signals(sig).name} at {delay}s, index merge", "neardup index merge a.ndx b.ndx -o m.ndx", "no temp; no m.ndx unless it finished", f"exit {p.returncode}; temps {len(left)}; m.ndx {'there' if made else 'absent'}", ok)
                if made:
                    os.remove(os.path.join(d, "m.ndx"))
        nd(["clean", "-q", "tree", "--out-dir", "od"], d)
        names = sorted(os.listdir(os.path.join(d, "od")))
        for limit in [[], ["--memory-limit", "4M", "--tmp-dir", "sp"]]:
            for sig in [signal.SIGTERM, signal.SIGINT]:
                for delay in [0.3, 1.0, 2.0, 3.0]:
                    for n in names:
                        write(os.path.join(d, "od", n), "old\n")
                    p = subprocess.Popen([B, "clean", "-q", *limit, "tree", "--out-dir", "od"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    time.sleep(delay)
                    p.send_signal(sig)
                    p.wait(120)
                    olds = sum(old(os.path.join(d, "od", n)) for n in names)
                    left = temps(d) + os.listdir(os.path.join(d, "sp"))
                    ok = not left and olds in (0, len(names)) and (p.returncode == 0) == (olds == 0)
                    row(f"s20-signals: {signal.Signals(sig).name} at {delay}s, --out-dir {' '.join(limit[:2])}", f"neardup clean {' '.join(limit)} tree --out-dir od", "no temp; all files old or all new", f"exit {p.returncode}; {olds}/{len(names)} old; left {len(left)}", ok)


def case_s20_flags():
    """Session 20: flags at their edges not tried before, variables of the
    environment, and paths that are not what they must be."""
    with set_up() as d:
        os.mkdir(os.path.join(d, "dir"))
        os.mkfifo(os.path.join(d, "tfifo"))
        for flags in [["--bands", "64", "--rows", "8"], ["--doc-shingle", "0"], ["--block-shingle", "10000"], ["--threshold=-1"], ["--threshold", "1e308"],
                      ["--threshold", "nan"], ["--block-threshold", "inf"], ["--block-threshold=-0.0"], ["--num-perm", "1"], ["--num-perm", "1", "--bands", "1", "--rows", "1"],
                      ["--hamming", "64"], ["--method", "simhash", "--hamming", "0"], ["--memory-limit", "16E"], ["--memory-limit", "99999999999999999999G"], ["--memory-limit", "=-1"],
                      ["--doc-shingle", "100000"], ["--measure", "jaccard", "--threshold", "1e-300"], ["--max-gap", "0"], ["--glob", "["], ["--glob", "/".join(["**"] * 14)],
                      ["--keep", "max:text"], ["--keep", "newest:"], ["--seed=-1"]]:
            for name in ["r.jsonl", "a.txt"]:
                code, _, err = nd(["scan", "-q", *flags, name], d, timeout=120)
                row(f"s20-flags: {' '.join(flags)} {name}", f"neardup scan {' '.join(flags)} {name}", "no panic; 0/1 or exit 2 with a message", f"exit {code}; {short(err, 70)}", not crashed(code, err) and (code != 2 or err.startswith(("neardup:", "error:"))))
        for value in ["0", "1", "100000", "99999999999", "-1", "abc", ""]:
            code, _, err = nd(["scan", "-q", "r.jsonl"], d, env={"RAYON_NUM_THREADS": value}, timeout=120)
            row(f"s20-flags: RAYON_NUM_THREADS={value!r}", f"RAYON_NUM_THREADS='{value}' neardup scan r.jsonl", "runs", f"exit {code}; {short(err, 60)}", code == 0)
        for tmp in ["tfifo", "r.jsonl"]:
            before = sha(os.path.join(d, "r.jsonl"))
            code, _, err = nd(["scan", "-q", "--memory-limit", "64K", "r.jsonl"], d, env={"TMPDIR": os.path.join(d, tmp)}, timeout=60)
            row(f"s20-flags: TMPDIR a {'FIFO' if tmp == 'tfifo' else 'file (the input)'}", f"TMPDIR={tmp} neardup scan --memory-limit 64K r.jsonl", "exit 2 naming it; input unchanged", f"exit {code}; {short(err, 70)}", code == 2 and tmp in err and sha(os.path.join(d, "r.jsonl")) == before)
        for args in [["clean", "-q", "r.jsonl", "-o", "dir/"], ["clean", "-q", "r.jsonl", "-o", "newfile/"], ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--report", "dir"],
                     ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--html", "r.jsonl/x.html"], ["check", "-q", "r.jsonl", "--step-summary", "dir"], ["check", "-q", "r.jsonl", "--step-summary", "s.md/"],
                     ["clean", "-q", "r.jsonl", "--out-dir", "r.jsonl/"], ["index", "build", "r.jsonl", "-o", "x.ndx/"], ["scan", "-q", "r.jsonl", "--index", "dir", "--update"], ["scan", "-q", "r.jsonl/"]]:
            refused(f"s20-flags: {' '.join(a for a in args if a != '-q')}", args, d, ["r.jsonl"])
            if os.path.exists(os.path.join(d, "o.jsonl")):
                row(f"s20-flags: {' '.join(args)} left o.jsonl", "", "no output after a failure", "o.jsonl written", False)
                os.remove(os.path.join(d, "o.jsonl"))


def case_s20_records():
    """Session 20: one record larger than a chunk, from a file, standard input
    and a FIFO: a clear error naming the file (and line), exit 2, no output."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "big.jsonl"), "w") as f:
            f.write(json.dumps({"id": "big", "text": "word " * 400000}) + "\n")
            for i in range(5):
                f.write(json.dumps({"id": i, "text": "a b c d e f g"}) + "\n")
        write(os.path.join(d, "big.txt"), "x" * 3_000_000 + "\n")
        for limit in ["64K", "1M"]:
            for name in ["big.jsonl", "big.txt"]:
                code, _, err = nd(["clean", "-q", "--memory-limit", limit, "--tmp-dir", d, name, "-o", "o"], d, timeout=120)
                ok = code == 2 and name in err and "too large" in err and not os.path.exists(os.path.join(d, "o"))
                row(f"s20-records: one {name} record over --memory-limit {limit}", f"neardup clean --memory-limit {limit} {name} -o o", "exit 2 naming the file, no output", f"exit {code}; {short(err, 80)}", ok)
            code, _, err = nd(["scan", "-q", "--memory-limit", limit, "--tmp-dir", d, "-"], d, stdin=open(os.path.join(d, "big.jsonl"), "rb").read(), timeout=120)
            row(f"s20-records: one record over --memory-limit {limit} on stdin", f"neardup scan --memory-limit {limit} - < big.jsonl", "exit 2 naming stdin", f"exit {code}; {short(err, 80)}", code == 2 and "stdin" in err and not crashed(code, err))



def case_s20_summary():
    """Session 20: a large step summary already there (a job's earlier
    steps) is kept, and copied, not held: peak memory within
    --memory-limit 64M plus a fixed allowance (64 MiB)."""
    with set_up() as d:
        with open(os.path.join(d, "sum.md"), "wb") as f:
            for _ in range(300):
                f.write(b"x" * (1 << 20))
        code, mib, err = peak_rss(["check", "-q", "--memory-limit", "64M", "--tmp-dir", d, "r.jsonl", "--step-summary", "sum.md"], d)
        with open(os.path.join(d, "sum.md"), "rb") as f:
            kept = f.read(300 << 20) == b"x" * (300 << 20)
            tail = f.read()
        ok = code == 1 and mib <= 128 and kept and tail.startswith(b"### neardup check")
        row("s20-summary: a 300 MiB --step-summary already there, --memory-limit 64M", "neardup check --memory-limit 64M r.jsonl --step-summary sum.md", "kept and appended to; peak <= 128 MiB", f"exit {code}; peak {mib} MiB; {'kept' if kept else 'NOT KEPT'}; appended {tail[:20]!r}; {short(err, 40)}", ok)



def case_s20_parents():
    """Session 20: a path to write under a file: refused before any output
    (a run streaming cleaned text to a pipe sent it all, then failed)."""
    with set_up() as d:
        write(os.path.join(d, "notes.txt"), "old\n")
        for args in [["clean", "r.jsonl", "--report", "notes.txt/r.txt"], ["clean", "r.jsonl", "--html", "notes.txt/p.html"],
                     ["clean", "r.jsonl", "--memory-limit", "64K", "--tmp-dir", ".", "--report", "notes.txt/a/r.txt"],
                     ["check", "--output-format", "github", "r.jsonl", "--step-summary", "notes.txt/s.md"]]:
            code, out, err = nd(args, d)
            ok = code == 2 and not out and old(os.path.join(d, "notes.txt")) and not crashed(code, err)
            row(f"s20-parents: {' '.join(args)}", f"neardup {' '.join(args)} | cat", "exit 2, nothing on stdout", f"exit {code}; {len(out)} bytes on stdout; {short(err, 70)}", ok)


def zstd_frame(window_log, content):
    """A zstd frame declaring a window of 2**window_log bytes, its content in raw blocks."""
    out = b"\x28\xb5\x2f\xfd" + bytes([0x00, (window_log - 10) << 3])
    blocks = [content[i:i + (128 << 10)] for i in range(0, len(content), 128 << 10)] or [b""]
    for k, block in enumerate(blocks):
        out += ((len(block) << 3) | (k == len(blocks) - 1)).to_bytes(3, "little") + block
    return out


def gzip_member(data, extra=None, name=None, comment=None):
    """A gzip member with optional FEXTRA / FNAME / FCOMMENT header fields."""
    import struct
    import zlib

    flags, header = 0, b""
    if extra is not None:
        flags |= 4
        header += struct.pack("<H", len(extra)) + extra
    if name is not None:
        flags |= 8
        header += name + b"\0"
    if comment is not None:
        flags |= 16
        header += comment + b"\0"
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff" + header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def workflow_lines(text, names):
    """Lines a GitHub runner would read as a command naming one of `names` (it trims leading spaces)."""
    return [l for l in text.split("\n") if any(l.lstrip().startswith(n) for n in names)]


def case_s21_names():
    """Session 21: a name that begins a line of a text report (a document's
    removals, a skipped input, `index stats`) starting with `::`."""
    with tempfile.TemporaryDirectory() as d:
        block = "a paragraph long enough to be judged a repeated block of words here"
        write(os.path.join(d, "::error::X.txt"), f"opening words of the file\n\n{block}\n\nmiddle words apart\n\n{block}\n")
        write(os.path.join(d, "::warning::Y.txt"), b"binary\0file")
        nd(["index", "build", "-q", "::error::X.txt", "-o", "::error::X.ndx"], d)
        for args in [["scan"], ["check"], ["scan", "--preview", "80"], ["clean", "--out-dir", "od", "--report", "-"], ["clean", "--out-dir", "od2", "--memory-limit", "64K", "--tmp-dir", ".", "--report", "-"]]:
            code, out, err = nd(args + ["::error::X.txt", "::warning::Y.txt"], d)
            bad = workflow_lines(out.decode("utf-8", "replace") + err, ["::error::X", "::warning::Y"])
            row(f"s21-names: {' '.join(args[:2])} of ::error::X.txt (repeats) and ::warning::Y.txt (binary)", f"neardup {' '.join(args)} ::error::X.txt ::warning::Y.txt", "no line a workflow command", f"exit {code}; {len(bad)} command lines {[short(b, 40) for b in bad[:2]]}", not bad and not crashed(code, err))
        code, out, err = nd(["index", "stats", "::error::X.ndx"], d)
        bad = workflow_lines(out.decode("utf-8", "replace"), ["::error::X"])
        row("s21-names: index stats ::error::X.ndx", "neardup index stats ::error::X.ndx", "no line a workflow command", f"exit {code}; {len(bad)} command lines", code == 0 and not bad)


def case_s21_zstd():
    """Session 21: zstd frames declaring windows of 128 MiB to 2 GiB
    (`zstd --long=27..31`, made by hand): read, or refused saying why."""
    with set_up() as d:
        r = open(os.path.join(d, "r.jsonl"), "rb").read()
        for log in [27, 28, 31]:
            name = f"w{log}.jsonl.zst"
            write(os.path.join(d, name), zstd_frame(log, r))
            for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
                code, mib, err = peak_rss(["scan", "-q", *limit, name], d)
                ok = (code == 0 if log == 27 else code == 2 and name in err and "window" in err and "corrupt" not in err) and mib < 200 and not crashed(code, err)
                row(f"s21-zstd: window 2^{log} {' '.join(limit[:2])}", f"neardup scan {' '.join(limit[:2])} {name}", "2^27: read; above: exit 2 naming the file and the window", f"exit {code}; peak {mib} MiB; {short(err, 80)}", ok)
            code, _, err = nd(["scan", "-q", "-"], d, stdin=zstd_frame(log, r))
            row(f"s21-zstd: window 2^{log} on stdin", f"neardup scan - < {name}", "as the file", f"exit {code}; {short(err, 80)}", (code == 0 if log == 27 else code == 2 and "window" in err) and not crashed(code, err))


def case_s21_gzip():
    """Session 21: gzip header fields of 64 KiB and 1 MiB, names that lie
    about the content, bad trailers."""
    with set_up() as d:
        r = open(os.path.join(d, "r.jsonl"), "rb").read()
        import gzip

        cases = {
            "extra64k.jsonl.gz": (gzip_member(r, extra=b"x" * 65535), 0), "name1m.jsonl.gz": (gzip_member(r, name=b"n" * (1 << 20)), 2),
            "comment1m.jsonl.gz": (gzip_member(r, comment=b"c" * (1 << 20)), 2), "plain.jsonl.gz": (r, 2), "gzip-named.jsonl": (gzip.compress(r), 0),
            "badcrc.jsonl.gz": (gzip_member(r)[:-8] + b"\0\0\0\0" + gzip_member(r)[-4:], 2), "badsize.jsonl.gz": (gzip_member(r)[:-4] + b"\0\0\0\0", 2),
            "cut-in-name.jsonl.gz": (gzip_member(r, name=b"n" * 100)[:60], 2),
        }
        for name, (data, want) in cases.items():
            write(os.path.join(d, name), data)
            for limit in [[], ["--memory-limit", "64K", "--tmp-dir", d]]:
                code, _, err = nd(["clean", "-q", *limit, name, "-o", "o.jsonl"], d)
                made = os.path.exists(os.path.join(d, "o.jsonl"))
                ok = code == want and (want == 0 or (name in err and not made)) and not crashed(code, err)
                row(f"s21-gzip: {name} {' '.join(limit[:2])}", f"neardup clean {' '.join(limit[:2])} {name} -o o.jsonl", f"exit {want}" + (", names the file, no output" if want else ""), f"exit {code}; output {'made' if made else 'none'}; {short(err, 70)}", ok)
                if made:
                    os.remove(os.path.join(d, "o.jsonl"))


def case_s21_encodings():
    """Session 21: byte-order marks (UTF-8 kept byte for byte; UTF-16/32
    refused by name), CRLF, on every way in."""
    with set_up() as d:
        r = open(os.path.join(d, "r.jsonl"), "rb").read()
        a = open(os.path.join(d, "a.txt"), "rb").read()
        files = {"bom.txt": b"\xef\xbb\xbf" + a, "bom.jsonl": b"\xef\xbb\xbf" + r, "bomcrlf.jsonl": b"\xef\xbb\xbf" + r.replace(b"\n", b"\r\n"),
                 "u16.jsonl": r.decode().encode("utf-16"), "u16be.txt": b"\xfe\xff" + a.decode().encode("utf-16-be"), "u32.txt": a.decode().encode("utf-32")}
        for name, data in files.items():
            write(os.path.join(d, name), data)
        nd(["clean", "-q", "a.txt", "-o", "plain.txt"], d)
        nd(["clean", "-q", "r.jsonl", "-o", "plain.jsonl"], d)
        for name in files:
            outs = []
            for limit in [[], ["--memory-limit", "64K", "--tmp-dir", d]]:
                for stdin in [False, True]:
                    out = f"o{len(outs)}"
                    code, _, err = nd(["clean", "-q", *limit, "-" if stdin else name, "-o", out], d, stdin=files[name] if stdin else None)
                    outs.append((code, sha(os.path.join(d, out)), err))
            codes = [o[0] for o in outs]
            if name.startswith("u"):
                ok = codes == [2, 2, 2, 2] and all("byte-order mark" in o[2] or "binary" in o[2] for o in outs) and name in outs[0][2]
                got = f"exits {codes}; {short(outs[0][2], 60)}; stdin: {short(outs[1][2], 50)}"
            else:
                plain = open(os.path.join(d, "plain.txt" if name.endswith(".txt") else "plain.jsonl"), "rb").read()
                got_bytes = open(os.path.join(d, "o0"), "rb").read() if os.path.exists(os.path.join(d, "o0")) else b""
                kept = got_bytes.startswith(b"\xef\xbb\xbf") and (name == "bomcrlf.jsonl" or got_bytes[3:] == plain)
                ok = codes == [0, 0, 0, 0] and len({o[1] for o in outs}) == 1 and kept
                got = f"exits {codes}; {len({o[1] for o in outs})} distinct outputs; BOM kept, rest as plain: {kept}"
            row(f"s21-encodings: {name} (file, stdin; whole, 64K)", f"neardup clean [--memory-limit 64K] {name}|- -o o", "UTF-8 BOM: one output, byte for byte; UTF-16/32: exit 2 by name", got, ok)


def case_s21_ulimit_v():
    """Session 21: an address-space limit (`ulimit -v`): no abort; a file
    that cannot be mapped is streamed in chunks."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "sparse.jsonl"), "wb") as f:
            f.write(b'{"id": 1, "text": oops}\n{"id": 2, "text": "fine words"}\n')
            f.truncate(1 << 30)
        p = subprocess.run(["bash", "-c", f"ulimit -v 700000; exec {B} scan -q --memory-limit 1M --tmp-dir . sparse.jsonl"], cwd=d, capture_output=True, timeout=120)
        err = p.stderr.decode()
        row("s21-ulimit-v: a 1 GiB JSONL (sparse) under ulimit -v 700000 at --memory-limit 1M", "ulimit -v 700000; neardup scan --memory-limit 1M sparse.jsonl", "streamed: exit 2 at line 1's bad record", f"exit {p.returncode}; {short(err, 90)}", p.returncode == 2 and "sparse.jsonl:1:" in err)
        import random

        rng = random.Random(5)
        vocab = [f"w{i}" for i in range(3000)]
        with open(os.path.join(d, "big.jsonl"), "w") as f:
            for i in range(60000):
                f.write(json.dumps({"id": i, "text": " ".join(rng.choice(vocab) for _ in range(200))}) + "\n")
        for v in [500000, 300000]:
            for limit in ["", "--memory-limit 64M --tmp-dir ."]:
                p = subprocess.run(["bash", "-c", f"ulimit -v {v}; exec {B} scan -q {limit} big.jsonl"], cwd=d, capture_output=True, timeout=600)
                err = p.stderr.decode("utf-8", "replace")
                row(f"s21-ulimit-v: 60,000 records (~60 MB) under ulimit -v {v} {limit[:18]}", f"ulimit -v {v}; neardup scan {limit} big.jsonl", "no abort: a run or exit 2 with a message", f"exit {p.returncode}; {short(err, 80)}", p.returncode in (0, 1, 2) and not crashed(p.returncode, err) and (p.returncode != 2 or err.startswith("neardup:")))


def case_s21_closed_stdout():
    """Session 21: standard output closed before the run starts (its read
    end gone), with `--update`: exit quietly or say so; the index unchanged."""
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 3000, 150)
        for limit in [[], ["--memory-limit", "1M", "--tmp-dir", d]]:
            for args in [["clean", "-q", "big.jsonl", "-o", "-"], ["scan", "-q", "big.jsonl"], ["check", "-q", "big.jsonl"], ["scan", "-q", "--json", "big.jsonl"],
                         ["check", "-q", "--output-format", "github", "big.jsonl"], ["clean", "-q", "big.jsonl", "-o", "o.jsonl", "--report", "-"]]:
                nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
                before = sha(os.path.join(d, "u.ndx"))
                rfd, wfd = os.pipe()
                os.close(rfd)
                with os.fdopen(wfd, "wb") as out:
                    code, _, err = nd(args + limit + ["--index", "u.ndx", "--update"], d, stdout=out)
                same = sha(os.path.join(d, "u.ndx")) == before
                row(f"s21-stdout: closed stdout, {' '.join(args[:2] + args[4:])} --update {' '.join(limit[:2])}", f"neardup {' '.join(args)} --index u.ndx --update >&-(closed pipe)", "index unchanged; no panic", f"exit {code}; index {'unchanged' if same else 'CHANGED'}; {short(err, 60)}", same and not crashed(code, err))
                remove(d, "o.jsonl")


def case_s21_concurrent():
    """Session 21: `index merge` reading or writing an index an `--update`
    holds; two runs writing one `-o` at once."""
    with set_up() as d:
        for i in range(2):
            with open(os.path.join(d, f"batch{i}.jsonl"), "w") as f:
                for j in range(3000):
                    f.write(json.dumps({"id": f"b{i}-{j}", "text": words(100, seed=10_000 * (i + 1) + j)}) + "\n")
        nd(["index", "build", "-q", "a.txt", "-o", "small.ndx"], d)
        for target in ["m.ndx", "u.ndx"]:
            nd(["index", "build", "-q", "batch0.jsonl", "-o", "u.ndx"], d)
            up = subprocess.Popen([B, "clean", "-q", "batch1.jsonl", "--index", "u.ndx", "--update", "-o", "ob.jsonl"], cwd=d, stderr=subprocess.PIPE)
            time.sleep(0.3)
            merge = ["index", "merge", "u.ndx", "small.ndx", "-o", "m.ndx"] if target == "m.ndx" else ["index", "merge", "small.ndx", "r.jsonl", "-o", "u.ndx"]
            code, _, err = nd(merge, d, timeout=300)
            up_code = up.wait(300)
            c2, out, _ = nd(["index", "stats", "--json", "u.ndx"], d)
            docs = json.loads(out)["documents"] if c2 == 0 else None
            ok = up_code == 0 and docs == 6000 and not crashed(code, err) and (code == 0 if target == "m.ndx" else code == 2)
            row(f"s21-concurrent: index merge {'reading' if target == 'm.ndx' else 'into (bad 2nd input)'} an index an --update holds", "neardup clean batch1 --index u.ndx --update & neardup " + " ".join(merge), "update lands whole (6,000 documents); merge reads a whole index or waits", f"update exit {up_code}; merge exit {code}; u.ndx {docs} documents; {short(err, 60)}", ok)
        nd(["clean", "-q", "batch0.jsonl", "-o", "e0.jsonl"], d)
        nd(["clean", "-q", "batch1.jsonl", "-o", "e1.jsonl"], d)
        wants = {sha(os.path.join(d, "e0.jsonl")), sha(os.path.join(d, "e1.jsonl"))}
        for k in range(3):
            ps = [subprocess.Popen([B, "clean", "-q", *lim, f"batch{i}.jsonl", "-o", "same.jsonl"], cwd=d, stderr=subprocess.PIPE) for i, lim in [(0, []), (1, ["--memory-limit", "1M", "--tmp-dir", d])]]
            codes = [p.wait(300) for p in ps]
            got = sha(os.path.join(d, "same.jsonl"))
            row(f"s21-concurrent: two runs, one -o, round {k}", "neardup clean batch0 -o same.jsonl & neardup clean --memory-limit 1M batch1 -o same.jsonl", "the output is one run's whole; no temp", f"exits {codes}; {'one whole' if got in wants else 'TORN'}; temps {len(temps(d))}", codes == [0, 0] and got in wants and not temps(d))


def case_s21_limits():
    """Session 21: `ulimit -n 32` with 500 files; `ulimit -f` during an
    `--out-dir`, `--html` and `--update --json` run."""
    with set_up() as d:
        os.mkdir(os.path.join(d, "many"))
        lines = records().splitlines()
        for i in range(500):
            write(os.path.join(d, "many", f"f{i}.jsonl"), lines[i % 40].replace('"id": "d', f'"id": "f{i}-d') + "\n")
        nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
        for args in [["clean", "-q", "many", "-o", "o.jsonl", "--index", "u.ndx", "--update"], ["clean", "-q", "--memory-limit", "64K", "--tmp-dir", ".", "many", "-o", "o2.jsonl", "--report", "r.txt"],
                     ["clean", "-q", "many", "--out-dir", "od"], ["scan", "-q", "--html", "p.html", "many"]]:
            p = subprocess.run(["bash", "-c", f"ulimit -n 32; exec {B} " + " ".join(args)], cwd=d, capture_output=True, timeout=300)
            err = p.stderr.decode()
            row(f"s21-limits: ulimit -n 32, 500 files, {' '.join(args[1:3] + args[4:])}", f"ulimit -n 32; neardup {' '.join(args)}", "runs", f"exit {p.returncode}; {short(err, 70)}", p.returncode in (0, 1) and not crashed(p.returncode, err))
        os.mkdir(os.path.join(d, "tree"))
        for i in range(4):
            write_records(os.path.join(d, "tree", f"f{i}.jsonl"), 3000, 150)
            subprocess.run(["sed", "-i", f's/"id": \\([0-9]*\\)/"id": "{i}-\\1"/', os.path.join(d, "tree", f"f{i}.jsonl")], check=True)
        before = sha(os.path.join(d, "u.ndx"))
        for args in [["clean", "-q", "tree", "--out-dir", "od"], ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", ".", "tree", "--out-dir", "od"], ["clean", "-q", "tree", "--out-dir", "od", "--index", "u.ndx", "--update"],
                     ["scan", "-q", "tree", "--html", "p.html"], ["scan", "-q", "tree", "--index", "u.ndx", "--update", "--json"]]:
            subprocess.run(["rm", "-rf", os.path.join(d, "od"), os.path.join(d, "p.html")])
            os.mkdir(os.path.join(d, "od"))
            write(os.path.join(d, "od", "f0.jsonl"), "old\n")
            p = subprocess.run(["bash", "-c", f"ulimit -f 1000; exec {B} " + " ".join(args)], cwd=d, capture_output=True, timeout=300)
            err = p.stderr.decode()
            ok = p.returncode == 2 and old(os.path.join(d, "od", "f0.jsonl")) and os.listdir(os.path.join(d, "od")) == ["f0.jsonl"] and sha(os.path.join(d, "u.ndx")) == before and not temps(d) and not os.path.exists(os.path.join(d, "p.html"))
            row(f"s21-limits: ulimit -f 1000 (500 KB), {' '.join(args[1:])[:60]}", f"ulimit -f 1000; neardup {' '.join(args)}", "exit 2; old file, index kept; no temp, no partial", f"exit {p.returncode}; od {os.listdir(os.path.join(d, 'od'))}; temps {len(temps(d))}; {short(err, 60)}", ok)


def case_s21_index():
    """Session 21: an index built with other settings, cut at every eighth
    of its length, given as an input."""
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 2000, 120)
        for flags in [["--doc-shingle", "3"], ["--num-perm", "128"], ["--seed", "7"], ["--method", "simhash"], ["--bands", "32", "--rows", "4"]]:
            nd(["index", "build", "-q", *flags, "big.jsonl", "-o", "s.ndx"], d)
            before = sha(os.path.join(d, "s.ndx"))
            for args in [["scan", "-q", "r.jsonl", "--index", "s.ndx"], ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--index", "s.ndx", "--update"]]:
                code, _, err = nd(args, d)
                ok = code == 2 and "other settings" in err and sha(os.path.join(d, "s.ndx")) == before and not os.path.exists(os.path.join(d, "o.jsonl"))
                row(f"s21-index: built with {' '.join(flags)}, {args[0]}{' --update' if '--update' in args else ''}", f"neardup index build {' '.join(flags)} ...; neardup {' '.join(args)}", "exit 2 naming the setting; nothing written", f"exit {code}; {short(err, 70)}", ok)
        nd(["index", "build", "-q", "big.jsonl", "-o", "t.ndx"], d)
        data = open(os.path.join(d, "t.ndx"), "rb").read()
        for k in range(8):
            for args in [["scan", "-q", "a.txt", "--index", "cut.ndx"], ["clean", "-q", "a.txt", "-o", "oc.txt", "--index", "cut.ndx", "--update"], ["index", "stats", "cut.ndx"], ["index", "merge", "cut.ndx", "t.ndx", "-o", "mc.ndx"]]:
                # Cut again before each command: an update may have made an
                # index there.
                write(os.path.join(d, "cut.ndx"), data[: len(data) * k // 8])
                code, _, err = nd(args, d, timeout=60)
                made = [n for n in ["oc.txt", "mc.ndx"] if os.path.exists(os.path.join(d, n))]
                if k == 0 and "--update" in args:
                    # Session 30: an empty file is no index yet, and an update
                    # starts one there (as `index build -o` and `merge -o` do).
                    row(f"s21-index: cut at {k}/8 (empty), {' '.join(args[:2])} --update", f"neardup {' '.join(args)}", "exit 0; an index started there", f"exit {code}; made {made}; {short(err, 60)}", code == 0 and made == ["oc.txt"] and os.path.getsize(os.path.join(d, "cut.ndx")) > 0)
                else:
                    row(f"s21-index: cut at {k}/8, {' '.join(args[:2])}", f"neardup {' '.join(args)}", "exit 2 naming it; nothing written", f"exit {code}; made {made}; {short(err, 60)}", code == 2 and "cut.ndx" in err and not made and not crashed(code, err))
                for n in made:
                    os.remove(os.path.join(d, n))
        code, _, err = nd(["clean", "-q", "t.ndx", "-o", "ot.txt"], d)
        row("s21-index: an index named as the input of clean", "neardup clean t.ndx -o ot.txt", "exit 2 saying it is an index", f"exit {code}; {short(err, 80)}", code == 2 and "index" in err and not os.path.exists(os.path.join(d, "ot.txt")))
        code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "-", "--report", "-"], d)
        row("s21-index: -o - with --report -", "neardup clean r.jsonl -o - --report -", "refused, exit 2", f"exit {code}; {short(err, 80)}", code == 2)


def case_s22_stderr():
    """Session 22: standard error a pipe whose reader has gone (`|& head`
    done): no panic; the run writes what it would."""
    with set_up() as d:
        write(os.path.join(d, "latin1.txt"), TEXT.encode() + b"caf\xe9 au lait\n")
        nd(["index", "build", "-q", "a.txt", "-o", "m1.ndx"], d)
        nd(["index", "build", "-q", "r.jsonl", "-o", "m2.ndx"], d)
        for args, made in [(["clean", "r.jsonl", "-o", "o1.jsonl"], "o1.jsonl"), (["scan", "-v", "r.jsonl"], None), (["clean", "--progress", "always", "r.jsonl", "-o", "o2.jsonl"], "o2.jsonl"),
                           (["clean", "r.jsonl", "--index", "e.ndx", "--update", "-o", "o3.jsonl"], "e.ndx"), (["clean", "--memory-limit", "64K", "--tmp-dir", ".", "latin1.txt", "-o", "o4.txt"], "o4.txt"),
                           (["check", "--output-format", "github", "r.jsonl"], None), (["index", "merge", "m1.ndx", "m2.ndx", "-o", "m.ndx"], "m.ndx"), (["clean", "nope.jsonl", "-o", "o5.jsonl"], None),
                           (["clean", "--threads", "100000", "r.jsonl", "-o", "o6.jsonl"], "o6.jsonl")]:
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run([B] + args, cwd=d, stdout=subprocess.PIPE, stderr=w, timeout=120)
            os.close(w)
            code = p.returncode
            ok = code in (0, 1, 2) and (made is None or os.path.exists(os.path.join(d, made))) and (args[1] != "nope.jsonl" or code == 2)
            row(f"s22-stderr: stderr a closed pipe, {' '.join(args[:3])}", f"neardup {' '.join(args)} 2>(closed pipe)", "no panic (exit 0/1/2); output written", f"exit {code}; {made} {'made' if made and os.path.exists(os.path.join(d, made)) else '-'}", ok)


def case_s22_lock():
    """Session 22: an index's lock file that is a symbolic link (to nothing,
    into a missing directory, to the input), a FIFO or a directory."""
    with set_up() as d:
        nd(["index", "build", "-q", "a.txt", "-o", "s.ndx"], d)
        nd(["index", "build", "-q", "r.jsonl", "-o", "t.ndx"], d)
        runs = [(["clean", "-q", "r.jsonl", "--index", "s.ndx", "--update", "-o", "o.jsonl"], "s.ndx.lock"), (["index", "build", "-q", "r.jsonl", "-o", "s.ndx"], "s.ndx.lock"),
                (["index", "merge", "s.ndx", "t.ndx", "-o", "m.ndx"], "m.ndx.lock")]
        for target in ["gone", "missing/dir/x"]:
            for args, lock in runs:
                for n in ["s.ndx.lock", "t.ndx.lock", "m.ndx.lock"]:
                    if os.path.lexists(os.path.join(d, n)):
                        os.remove(os.path.join(d, n))
                os.symlink(target, os.path.join(d, lock))
                before = {n: sha(os.path.join(d, n)) for n in ["s.ndx", "t.ndx", "r.jsonl"]}
                t = time.time()
                try:
                    code, _, err = nd(args, d, timeout=30)
                except subprocess.TimeoutExpired:
                    code, err = -1, "hung (killed at 30 s)"
                same = before == {n: sha(os.path.join(d, n)) for n in before}
                made = [n for n in ["o.jsonl", "m.ndx"] if os.path.exists(os.path.join(d, n))]
                os.remove(os.path.join(d, lock))
                row(f"s22-lock: {lock} a link to {target}, {' '.join(args[:2])}", f"ln -s {target} {lock}; neardup {' '.join(args)}", "exit 2 at once naming the lock; nothing changed", f"exit {code}; {time.time() - t:.1f}s; made {made}; {short(err, 70)}", code == 2 and lock in err and same and not made)
                for n in made:
                    os.remove(os.path.join(d, n))
        keep = sha(os.path.join(d, "r.jsonl"))
        if os.path.lexists(os.path.join(d, "s.ndx.lock")):
            os.remove(os.path.join(d, "s.ndx.lock"))
        os.symlink("r.jsonl", os.path.join(d, "s.ndx.lock"))
        code, _, err = nd(runs[0][0], d, timeout=60)
        row("s22-lock: s.ndx.lock a link to the input", "ln -s r.jsonl s.ndx.lock; neardup clean r.jsonl --index s.ndx --update -o o.jsonl", "refused by name (the lock is the input) or runs; the input unchanged", f"exit {code}; input {'unchanged' if sha(os.path.join(d, 'r.jsonl')) == keep else 'CHANGED'}; {short(err, 60)}", (code == 0 or (code == 2 and "lock file" in err)) and sha(os.path.join(d, "r.jsonl")) == keep)
        os.remove(os.path.join(d, "s.ndx.lock"))
        os.mkfifo(os.path.join(d, "s.ndx.lock"))
        try:
            code, _, err = nd(runs[0][0], d, timeout=30)
        except subprocess.TimeoutExpired:
            code, err = -1, "hung"
        row("s22-lock: s.ndx.lock a FIFO", "mkfifo s.ndx.lock; neardup clean r.jsonl --index s.ndx --update -o o.jsonl", "no hang; still a FIFO", f"exit {code}; FIFO {stat.S_ISFIFO(os.lstat(os.path.join(d, 's.ndx.lock')).st_mode)}; {short(err, 60)}", code in (0, 2) and stat.S_ISFIFO(os.lstat(os.path.join(d, "s.ndx.lock")).st_mode))
        os.remove(os.path.join(d, "s.ndx.lock"))
        os.mkdir(os.path.join(d, "s.ndx.lock"))
        before = sha(os.path.join(d, "s.ndx"))
        code, _, err = nd(runs[0][0], d, timeout=30)
        row("s22-lock: s.ndx.lock a directory", "mkdir s.ndx.lock; neardup clean r.jsonl --index s.ndx --update -o o.jsonl", "exit 2 naming it; index unchanged", f"exit {code}; {short(err, 60)}", code == 2 and "s.ndx.lock" in err and sha(os.path.join(d, "s.ndx")) == before)


def case_s22_ulimit_v():
    """Session 22: many threads under an address-space limit (each glibc
    arena reserves 64 MiB of it)."""
    with tempfile.TemporaryDirectory() as d:
        import random

        rng = random.Random(5)
        vocab = [f"w{i}" for i in range(3000)]
        with open(os.path.join(d, "big.jsonl"), "w") as f:
            for i in range(60000):
                f.write(json.dumps({"id": i, "text": " ".join(rng.choice(vocab) for _ in range(200))}) + "\n")
        with open(os.path.join(d, "big.jsonl")) as f, open(os.path.join(d, "small.jsonl"), "w") as g:
            for _ in range(2500):
                g.write(f.readline())
        for name, v, threads, limit in [("big.jsonl", 300000, 2, ""), ("big.jsonl", 300000, 8, ""), ("big.jsonl", 300000, 32, ""), ("big.jsonl", 1000000, 8, ""), ("big.jsonl", 1000000, 16, ""),
                                        ("big.jsonl", 1000000, 16, "--memory-limit 64M --tmp-dir ."), ("small.jsonl", 800000, 16, ""), ("small.jsonl", 800000, 16, "--memory-limit 1M --tmp-dir .")]:
            p = subprocess.run(["bash", "-c", f"ulimit -v {v}; exec {B} scan -q --threads {threads} {limit} {name}"], cwd=d, capture_output=True, timeout=600)
            err = p.stderr.decode("utf-8", "replace")
            row(f"s22-ulimit-v: {name} under ulimit -v {v}, --threads {threads} {limit[:18]}", f"ulimit -v {v}; neardup scan --threads {threads} {limit} {name}", "no abort: a run or exit 2 with a message", f"exit {p.returncode}; {short(err, 70)}", p.returncode in (0, 1, 2) and not crashed(p.returncode, err) and (p.returncode != 2 or err.startswith("neardup:")))


def case_s22_ids():
    """Session 22: ids of 800 KB (a careless --id-field, a hostile file) at
    --memory-limit 64M: memory within the limit and an allowance."""
    with tempfile.TemporaryDirectory() as d:
        vocab = [f"v{i}" for i in range(3000)]
        import random

        for name, groups in [("dup.jsonl", 3), ("distinct.jsonl", 300)]:
            with open(os.path.join(d, name), "w") as f:
                for i in range(300):
                    r = random.Random(i % groups)
                    f.write(json.dumps({"id": f"{i}-" + "I" * (800 << 10), "text": " ".join(r.choice(vocab) for _ in range(100))}) + "\n")
            for args in [["scan", "-q"], ["check", "-q", "--output-format", "github"], ["clean", "-q", "-o", "o.jsonl", "--index", "u.ndx", "--update"]]:
                remove(d, "u.ndx")
                code, mib, err = peak_rss(args + ["--memory-limit", "64M", "--tmp-dir", d, name], d)
                row(f"s22-ids: 300 records with 800 KB ids ({name}), {' '.join(args[:2])} at 64M", f"neardup {' '.join(args)} --memory-limit 64M {name}", "peak under 64 MiB + 100 MiB", f"exit {code}; peak {mib} MiB", code in (0, 1) and mib < 164)


def case_s22_tiny():
    """Session 22: tiny records (six words) against ordinary ones, time per
    MB, in modes earlier passes did not time: --level docs, standard input
    in chunks, index build."""
    with tempfile.TemporaryDirectory() as d:
        import random

        rng = random.Random(9)
        vocab = [f"w{i}" for i in range(20000)]
        with open(os.path.join(d, "ord.jsonl"), "w") as f:
            size = i = 0
            while size < 10_000_000:
                paras = [" ".join(rng.choice(vocab) for _ in range(rng.randrange(20, 60))) for _ in range(rng.randrange(2, 8))]
                line = json.dumps({"id": i, "text": "\n\n".join(paras)}) + "\n"
                f.write(line)
                size, i = size + len(line), i + 1
        with open(os.path.join(d, "tiny.jsonl"), "w") as f:
            size = i = 0
            while size < 10_000_000:
                line = json.dumps({"id": i, "text": " ".join(rng.choice(vocab) for _ in range(6))}) + "\n"
                f.write(line)
                size, i = size + len(line), i + 1

        def timed(args, name, stdin):
            best = None
            for _ in range(3):
                t = time.time()
                if stdin:
                    with open(os.path.join(d, name), "rb") as f:
                        subprocess.run([B] + args + ["-"], cwd=d, stdin=f, capture_output=True, timeout=600)
                else:
                    subprocess.run([B] + args + [name], cwd=d, capture_output=True, timeout=600)
                took = time.time() - t
                best = took if best is None else min(best, took)
            return best / (os.path.getsize(os.path.join(d, name)) / 1e6)

        for args, stdin in [(["scan", "-q"], False), (["scan", "-q", "--level", "docs"], False), (["scan", "-q", "--memory-limit", "64M", "--tmp-dir", "."], True), (["index", "build", "-q", "-o", "x.ndx"], False)]:
            o, t = timed(args, "ord.jsonl", stdin), timed(args, "tiny.jsonl", stdin)
            row(f"s22-tiny: six-word records vs ordinary, {' '.join(args[1:4])}{' (stdin)' if stdin else ''}", f"neardup {' '.join(args)} {'- <' if stdin else ''} tiny.jsonl", "within 3x ordinary's time per MB", f"ordinary {o * 1000:.0f} ms/MB, tiny {t * 1000:.0f} ms/MB ({t / o:.1f}x)", t <= 3 * o)



def case_s28_tiny_index():
    """Session 28: six-word records against an index of their kind, time per
    MB against ordinary records against theirs (issues 14 item 9, 18 item
    5): a check of new records (index format 2's `banded_shingles` lets a
    short record none of whose shingles a document with band records holds
    skip its band look-ups), whole and at --memory-limit 64M."""
    with tempfile.TemporaryDirectory() as d:
        import random

        rng = random.Random(28)
        vocab = [f"w{i}" for i in range(20000)]

        def write(name, make, size_wanted):
            with open(os.path.join(d, name), "w") as f:
                size = i = 0
                while size < size_wanted:
                    line = json.dumps({"id": f"{name}{i}", "text": make()}) + "\n"
                    f.write(line)
                    size, i = size + len(line), i + 1

        ordinary = lambda: "\n\n".join(" ".join(rng.choice(vocab) for _ in range(rng.randrange(20, 60))) for _ in range(rng.randrange(2, 8)))
        tiny = lambda: " ".join(rng.choice(vocab) for _ in range(6))
        for kind, make in [("ord", ordinary), ("tiny", tiny)]:
            write(f"{kind}.jsonl", make, 5_000_000)
            write(f"{kind}.new.jsonl", make, 2_000_000)
            subprocess.run([B, "index", "build", "-q", "-o", f"{kind}.ndx", f"{kind}.jsonl"], cwd=d, capture_output=True, timeout=600)
            # Session 29: copies of indexed records (a feed scraped again),
            # 2 MB of them under new ids.
            with open(os.path.join(d, f"{kind}.jsonl")) as f, open(os.path.join(d, f"{kind}.copy.jsonl"), "w") as out:
                size = 0
                for i, line in enumerate(f):
                    line = json.dumps({"id": f"copy{i}", "text": json.loads(line)["text"]}) + "\n"
                    size += len(line)
                    if size > 2_000_000:
                        break
                    out.write(line)

        def timed(args, kind, which="new"):
            best = None
            name = f"{kind}.{which}.jsonl"
            for _ in range(3):
                t = time.time()
                subprocess.run([B] + args + ["--index", f"{kind}.ndx", name], cwd=d, capture_output=True, timeout=600)
                took = time.time() - t
                best = took if best is None else min(best, took)
            return best / (os.path.getsize(os.path.join(d, name)) / 1e6)

        for args in [["check", "-q", "--exit-zero"], ["check", "-q", "--exit-zero", "--memory-limit", "64M", "--tmp-dir", "."]]:
            o, t = timed(args, "ord"), timed(args, "tiny")
            row(f"s28-tiny: six-word records vs ordinary against an index of their kind, {' '.join(args[:1] + args[3:5])}", f"neardup {' '.join(args)} --index tiny.ndx tiny.new.jsonl", "within 3x ordinary's time per MB", f"ordinary {o * 1000:.0f} ms/MB, tiny {t * 1000:.0f} ms/MB ({t / o:.1f}x)", t <= 3 * o)
            o, t = timed(args, "ord", "copy"), timed(args, "tiny", "copy")
            row(f"s29-tiny: copies of indexed six-word records vs of ordinary ones, {' '.join(args[:1] + args[3:5])}", f"neardup {' '.join(args)} --index tiny.ndx tiny.copy.jsonl", "within 3x ordinary's time per MB", f"ordinary {o * 1000:.0f} ms/MB, tiny {t * 1000:.0f} ms/MB ({t / o:.1f}x)", t <= 3 * o)

def case_s22_special():
    """Session 22: special files in a walked directory, standard input a
    directory, `-` twice, signals while blocked opening a FIFO output or
    waiting on a lock, odd --memory-limit spellings, pathological texts."""
    with set_up() as d:
        os.mkdir(os.path.join(d, "walk"))
        write(os.path.join(d, "walk", "t.txt"), TEXT)
        os.mkfifo(os.path.join(d, "walk", "ff"))
        import socket

        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, "walk", "sock"))
        if os.geteuid() == 0:
            os.mknod(os.path.join(d, "walk", "zero"), 0o666 | stat.S_IFCHR, os.makedev(1, 5))
        for args in [["scan", "-q", "walk"], ["clean", "-q", "walk", "--out-dir", "odw"], ["clean", "-q", "--memory-limit", "64K", "--tmp-dir", ".", "walk", "--out-dir", "odw2"]]:
            try:
                code, _, err = nd(args, d, timeout=30)
            except subprocess.TimeoutExpired:
                code, err = -1, "hung"
            row(f"s22-special: a walked dir with a FIFO, a socket and a char device, {' '.join(args[:3])}", f"neardup {' '.join(args)}", "ends (special files skipped or named)", f"exit {code}; {short(err, 70)}", code in (0, 1, 2) and not crashed(code, err))
        s.close()
        fd = os.open(os.path.join(d, "walk"), os.O_RDONLY)
        p = subprocess.run([B, "scan", "-q", "-"], cwd=d, stdin=fd, capture_output=True, timeout=30)
        os.close(fd)
        err = p.stderr.decode()
        row("s22-special: standard input a directory", "neardup scan - < walk/", "exit 2 naming standard input", f"exit {p.returncode}; {short(err, 70)}", p.returncode == 2 and "stdin" in err)
        code, _, err = nd(["scan", "-q", "-", "-"], d, stdin=open(os.path.join(d, "r.jsonl"), "rb").read())
        row("s22-special: `-` given twice", "neardup scan - - < r.jsonl", "refused, exit 2", f"exit {code}; {short(err, 70)}", code == 2)
        os.mkfifo(os.path.join(d, "out.fifo"))
        p = subprocess.Popen([B, "clean", "-q", "r.jsonl", "-o", "out.fifo"], cwd=d, stderr=subprocess.PIPE)
        code = terminated_after(p, 1)
        row("s22-special: SIGTERM while opening a FIFO -o nobody reads", "neardup clean r.jsonl -o out.fifo & kill -TERM", "exit 143, no temp", f"exit {code}; temps {len(temps(d))}", code == 143 and not temps(d))
        nd(["index", "build", "-q", "a.txt", "-o", "w.ndx"], d)
        holder = subprocess.Popen(["flock", "w.ndx.lock", "sleep", "8"], cwd=d)
        time.sleep(0.5)
        p = subprocess.Popen([B, "clean", "-q", "r.jsonl", "--index", "w.ndx", "--update", "-o", "ow.jsonl"], cwd=d, stderr=subprocess.PIPE)
        code = terminated_after(p, 1)
        holder.wait()
        row("s22-special: SIGTERM while waiting on an index's lock", "flock w.ndx.lock sleep 8 & neardup clean --index w.ndx --update -o ow.jsonl & kill -TERM", "exit 143; no output, no temp", f"exit {code}; output {os.path.exists(os.path.join(d, 'ow.jsonl'))}; temps {len(temps(d))}", code == 143 and not os.path.exists(os.path.join(d, "ow.jsonl")) and not temps(d))
        for v in ["1.5G", "64MB", " 64M", "64 M", "0x10M", "1e9", "64KiB", "18446744073709551615B", "17179869184G", ".5G", "1G1", "\uff11G", "-0", "+64M", "NaN"]:
            code, _, err = nd(["scan", "-q", f"--memory-limit={v}", "--tmp-dir", ".", "r.jsonl"], d)
            row(f"s22-special: --memory-limit {v!r}", f"neardup scan --memory-limit='{v}' r.jsonl", "a run, or exit 2 with a message", f"exit {code}; {short(err, 70)}", code in (0, 1) or (code == 2 and err.startswith("neardup:") and not crashed(code, err)))
        # Pathological texts for the normalizers (brackets, tags, entities,
        # combining marks, page ranges, name lists): no quadratic time.
        n = 2_000_000
        rng_words = words(n // 8, seed=3)
        texts = {"ordinary": "\n\n".join(rng_words[i:i + 300] for i in range(0, len(rng_words), 300)), "[": "[" * n, "]\\n": "]\n" * (n // 2), "[a] ": "[a] " * (n // 4) + "\n",
                 "<b ": "<b " * (n // 3), "<!--": "<!--" * (n // 4), "&#": "&#" * (n // 2), "&amp;": "&amp;" * (n // 5), "1-": "1-" * (n // 2), "a+U+0301": "a" + "\u0301" * (n // 2),
                 "ZWJ": "\u200d" * (n // 3), "Smith J, ": "Smith J, Doe J, Roe R.\n" * (n // 23), "[a]. ": "[a]. " * (n // 5) + "\n"}
        times = {}
        for k, text in texts.items():
            write(os.path.join(d, "p.txt"), text)
            t = time.time()
            code, _, err = nd(["scan", "-q", "--threads", "1", "--strip-markup", "p.txt"], d, timeout=120)
            times[k] = (time.time() - t) / (len(text.encode()) / 1e6)
            if k != "ordinary":
                row(f"s22-special: 2 MB of {k!r} as one text", f"neardup scan --strip-markup p.txt ({k!r} x N)", "no panic; under 10x ordinary text's time per MB", f"exit {code}; {times[k] * 1000:.0f} ms/MB ({times[k] / times['ordinary']:.1f}x)", code in (0, 1) and times[k] <= 10 * times["ordinary"] + 0.2)


def parquet_columns(path):
    """The column names and values of a Parquet file, read column by column
    (pyarrow's datasets refuse a name given twice)."""
    import pyarrow.parquet as pq
    t = pq.ParquetFile(path).read()
    return t.schema.names, [c.to_pylist() for c in t.columns]


def case_s23_parquet():
    """Session 23: Parquet files of odd schemas: a column name given twice
    (the text's, another's, of one type or two), a wide table (20,000
    columns, 3 rows), ids and --keep fields of types that are neither
    strings nor numbers, column names that would start a report line, a
    text inside a struct or a list, no rows, row groups of one row."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        row("s23-parquet", "", "", "skipped (pyarrow is not installed)", True)
        return
    import datetime
    import decimal
    p1 = "one two three four five six seven eight nine ten eleven twelve"
    p2 = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
    texts = [p1 + "\n\n" + p2, p2 + "\n\nA paragraph of its own, with enough words to be a block.", "Other words entirely, none of them seen before in this file."]
    cleaned = "A paragraph of its own, with enough words to be a block."

    def table(name, arrays, names, **kw):
        pq.write_table(pa.Table.from_arrays(arrays, names=names), os.path.join(d, name), **kw)

    with tempfile.TemporaryDirectory() as d:
        # A name twice: each column must come back as it was.
        dups = {
            "text twice": ([pa.array(["a", "b", "c"]), pa.array(texts), pa.array(["keep 1", "keep 2", "keep 3"])], ["id", "text", "text"], 2, ["keep 1", "keep 2", "keep 3"]),
            "x twice (int64)": ([pa.array(texts), pa.array([1, 2, 3]), pa.array([10, 20, 30])], ["text", "x", "x"], 2, [10, 20, 30]),
            "x twice (int64, string)": ([pa.array(texts), pa.array([1, 2, 3]), pa.array(["p", "q", "r"])], ["text", "x", "x"], 2, ["p", "q", "r"]),
        }
        for name, (arrays, names, at, want) in dups.items():
            table("dup.parquet", arrays, names)
            for extra in [[], ["--annotate"], ["--memory-limit", "1M", "--tmp-dir", d]]:
                remove(d, "o.parquet")
                code, _, err = nd(["clean", "-q", "--level", "blocks", *extra, "dup.parquet", "-o", "o.parquet"], d)
                got = "no output"
                ok = False
                if code == 0:
                    names_out, values = parquet_columns(os.path.join(d, "o.parquet"))
                    text_at = names.index("text")
                    ok = values[at] == want and values[text_at][1] == cleaned
                    got = f"column {at}: {values[at]}; text row 2 {'cleaned' if values[text_at][1] == cleaned else repr(values[text_at][1][:30])}"
                row(f"s23-parquet: a column name twice, {name} {' '.join(extra[:2])}", f"neardup clean --level blocks {' '.join(extra[:2])} dup.parquet -o o.parquet ({', '.join(names)})",
                    "exit 0; every column as it was, the first `text` cleaned", f"exit {code}; {got}; {short(err, 60)}", ok)
        # A wide table: 20,000 columns of 3 rows (6 MB).
        cols = 20000
        table("wide.parquet", [pa.array([p1, p2, p1])] + [pa.array([i, i + 1, i + 2]) for i in range(cols)], ["text"] + [f"c{i}" for i in range(cols)], use_dictionary=False)
        for v in ["1000000", "600000"]:
            p = subprocess.run(["bash", "-c", f'ulimit -v {v}; exec "$0" clean -q wide.parquet -o o.parquet', B], cwd=d, capture_output=True, timeout=300)
            err = p.stderr.decode("utf-8", "replace")
            row(f"s23-parquet: 20,000 columns x 3 rows under ulimit -v {v}", f"(ulimit -v {v}; neardup clean wide.parquet -o o.parquet)", "exit 0, no abort", f"exit {p.returncode}; {short(err, 60)}", p.returncode == 0)
        for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
            code, mib, err = peak_rss(["clean", "-q", *limit, "wide.parquet", "-o", "o.parquet"], d)
            row(f"s23-parquet: 20,000 columns x 3 rows, peak {' '.join(limit[:2])}", f"neardup clean {' '.join(limit[:2])} wide.parquet -o o.parquet", "exit 0 (peak recorded)", f"exit {code}; {mib} MiB", code == 0)
        # Ids and --keep fields of odd types; NaN and infinite numbers.
        odd = {"timestamp": pa.array([datetime.datetime(2020, 1, i + 1) for i in range(3)]), "date": pa.array([datetime.date(2020, 1, 1)] * 3),
               "decimal": pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.5"), decimal.Decimal("12345678901234567890.123")]), "bool": pa.array([True, False, None]),
               "list": pa.array([[1, 2], [3], None]), "struct": pa.array([{"a": 1}, {"a": 2}, {"a": 3}]), "map": pa.array([[("k", "v")]] * 3, type=pa.map_(pa.string(), pa.string())),
               "null": pa.array([None] * 3, type=pa.null()), "binary not UTF-8": pa.array([b"\xff\x00", b"x", b""]), "NaN, inf": pa.array([1.0, float("nan"), float("inf")]),
               "uint64 2^64-1": pa.array([2**64 - 1, 0, 2**63], type=pa.uint64())}
        for name, array in odd.items():
            table("odd.parquet", [array, pa.array([p1, p2, p1])], ["k", "text"])
            for args in [["scan", "-q", "--id-field", "k"], ["clean", "-q", "--keep", "max:k", "-o", "o.parquet"], ["clean", "-q", "--keep", "newest:k", "-o", "o.parquet"]]:
                code, _, err = nd(args + ["odd.parquet"], d)
                row(f"s23-parquet: a {name} column as {args[-3] if args[0] == 'clean' else '--id-field'}", f"neardup {' '.join(args)} odd.parquet", "no panic; exit 0, or 2 naming the file",
                    f"exit {code}; {short(err, 70)}", not crashed(code, err) and (code == 0 or (code == 2 and "odd.parquet" in err)))
        # Column names that would start a line of their own; texts not at the top.
        table("evil.parquet", [pa.array([p1] * 3), pa.array([1, 2, 3])], ["body", "x\n::error::injected\x1b[31m"])
        code, out, err = nd(["scan", "-q", "evil.parquet"], d)
        lines = (err + out.decode("utf-8", "replace")).split("\n")
        row("s23-parquet: a column named `x\\n::error::injected\\e[31m`, no text column", "neardup scan evil.parquet", "exit 2 naming the file; the name escaped",
            f"exit {code}; {short(err, 80)}", code == 2 and "evil.parquet" in err and not any(line.startswith("::") for line in lines) and "\x1b" not in err)
        for name, arrays in {"a struct holding the text": [pa.array([{"text": t} for t in texts])], "a list of texts": [pa.array([[t] for t in texts])]}.items():
            table("nested.parquet", arrays, ["meta" if "struct" in name else "text"])
            code, _, err = nd(["clean", "-q", "nested.parquet", "-o", "o.parquet"], d)
            row(f"s23-parquet: {name}", "neardup clean nested.parquet -o o.parquet", "exit 2 naming the file", f"exit {code}; {short(err, 80)}", code == 2 and "nested.parquet" in err)
        pq.write_table(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}), os.path.join(d, "empty.parquet"))
        pq.write_table(pa.table({"text": texts * 50}), os.path.join(d, "groups.parquet"), row_group_size=1)
        for name in ["empty.parquet", "groups.parquet"]:
            for extra in [[], ["--memory-limit", "64K", "--tmp-dir", d]]:
                code, _, err = nd(["clean", "-q", *extra, name, "-o", "o.parquet"], d)
                n = pq.ParquetFile(os.path.join(d, "o.parquet")).metadata.num_rows if code == 0 else -1
                row(f"s23-parquet: {name} {' '.join(extra[:2])}", f"neardup clean {' '.join(extra[:2])} {name} -o o.parquet", "exit 0; 0 rows / 3 rows", f"exit {code}; {n} rows; {short(err, 50)}", code == 0 and n == (0 if name == "empty.parquet" else 3))


def case_s23_trees():
    """Session 23: trees 1,200 and 3,000 directories deep (paths of 2.4 and
    6 KB, past PATH_MAX): no crash; a path too long is named, exit 2, and
    nothing is left behind."""
    with tempfile.TemporaryDirectory() as d:
        for depth, root in [(1200, "deep1"), (3000, "deep2")]:
            os.mkdir(os.path.join(d, root))
            fd = os.open(os.path.join(d, root), os.O_RDONLY)
            for _ in range(depth):
                os.mkdir("d", dir_fd=fd)
                nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = nfd
            for name, data in [("a.txt", TEXT), ("r.jsonl", records(3))]:
                f = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(f, data.encode())
                os.close(f)
            os.close(fd)
            for args in [["scan", "-q", root], ["clean", "-q", root, "--out-dir", f"od-{root}"], ["index", "build", root, "-o", f"{root}.ndx"], ["clean", "-q", "--memory-limit", "64K", "--tmp-dir", d, root, "--out-dir", f"od2-{root}"]]:
                before = sorted(os.listdir(d))
                code, _, err = nd(args, d, timeout=120)
                after = sorted(os.listdir(d))
                made = [n for n in after if n not in before and not n.endswith(".lock")]
                ok = not crashed(code, err) and (code == 0 and (bool(made) or args[0] == "scan") or code == 2 and root in err and not made)
                row(f"s23-trees: {depth} directories deep, {' '.join(args[:2])}", f"neardup {' '.join(args)}", "exit 0; or exit 2 naming the path and nothing made",
                    f"exit {code}; made {made}; {short(err[-60:], 60)}", ok)
        # Python's rmtree recurses once a directory: 3,000 deep is past its limit.
        subprocess.run(["rm", "-rf", "--", *(os.path.join(d, n) for n in os.listdir(d))])


def case_s23_json():
    """Session 23: the text field found where it is: nested under another
    key, spelled with an escape, given twice (the last wins, as serde's maps
    take it): the cleaned string is that one, every other byte kept."""
    p1 = "one two three four five six seven eight nine ten eleven twelve"
    p2 = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
    own = "A paragraph of its own, with enough words to be a block."
    first = json.dumps({"id": 1, "text": p1 + "\n\n" + p2}) + "\n"
    cases = {
        "a nested text after the text": (first + '{"id":2,"text":%s,"meta":{"text":%s}}\n' % (json.dumps(p2 + "\n\n" + own), json.dumps("nested " + p1)),
                                         first + '{"id":2,"text":%s,"meta":{"text":%s}}\n' % (json.dumps(own), json.dumps("nested " + p1))),
        "a nested text before the text": (first + '{"id":2,"meta":{"text":%s},"text":%s}\n' % (json.dumps(p1), json.dumps(p2 + "\n\n" + own)),
                                          first + '{"id":2,"meta":{"text":%s},"text":%s}\n' % (json.dumps(p1), json.dumps(own))),
        "the key spelled t\\u0065xt": (first + '{"id":2,"t\\u0065xt":%s}\n' % json.dumps(p2 + "\n\n" + own), first + '{"id":2,"t\\u0065xt":%s}\n' % json.dumps(own)),
        "the key twice": (first + '{"id":2,"text":"x y z","text":%s}\n' % json.dumps(p2 + "\n\n" + own), first + '{"id":2,"text":"x y z","text":%s}\n' % json.dumps(own)),
        "a text in an array after it": (first + '{"id":2,"text":%s,"more":[{"text":%s}]}\n' % (json.dumps(p2 + "\n\n" + own), json.dumps(p1)),
                                        first + '{"id":2,"text":%s,"more":[{"text":%s}]}\n' % (json.dumps(own), json.dumps(p1))),
    }
    with tempfile.TemporaryDirectory() as d:
        for name, (data, want) in cases.items():
            write(os.path.join(d, "in.jsonl"), data)
            for extra in [[], ["--memory-limit", "64K", "--tmp-dir", d]]:
                code, out, err = nd(["clean", "-q", "--level", "blocks", *extra, "in.jsonl"], d)
                got = out.decode("utf-8", "replace")
                row(f"s23-json: {name} {' '.join(extra[:2])}", f"neardup clean --level blocks {' '.join(extra[:2])} in.jsonl", "exit 0; that string cleaned, every other byte kept",
                    f"exit {code}; {'as expected' if got == want else 'DIFFERENT: ' + short(got[len(first):], 60)}", code == 0 and got == want)


def case_s23_names():
    """Session 23: --out-dir names of inputs that have none (standard input
    is `stdin`, a process substitution `63`) beside files of those names;
    an index merged with an empty one; a step summary when the run fails."""
    with set_up() as d:
        write(os.path.join(d, "stdin"), TEXT)
        write(os.path.join(d, "63"), TEXT)
        code, _, err = nd(["clean", "-q", "-", "stdin", "--out-dir", "od"], d, stdin=TEXT.encode())
        row("s23-names: `-` and a file named stdin into one --out-dir", "neardup clean - stdin --out-dir od < a.txt", "exit 2 naming both; no od", f"exit {code}; {short(err, 70)}",
            code == 2 and "stdin" in err and not os.path.exists(os.path.join(d, "od")))
        p = subprocess.run(["bash", "-c", 'exec "$0" clean -q <(cat a.txt) 63 --out-dir od', B], cwd=d, capture_output=True, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        row("s23-names: <(cat a.txt) and a file named 63 into one --out-dir", "neardup clean <(cat a.txt) 63 --out-dir od", "exit 2 naming both; no od", f"exit {p.returncode}; {short(err, 70)}",
            p.returncode == 2 and "63" in err and not os.path.exists(os.path.join(d, "od")))
        open(os.path.join(d, "empty.jsonl"), "w").close()
        nd(["index", "build", "-q", "empty.jsonl", "-o", "e.ndx"], d)
        nd(["index", "build", "-q", "r.jsonl", "-o", "r.ndx"], d)
        for a, b in [("e.ndx", "e.ndx"), ("e.ndx", "r.ndx"), ("r.ndx", "e.ndx")]:
            remove(d, "m.ndx")
            code, _, err = nd(["index", "merge", a, b, "-o", "m.ndx"], d)
            vcode, _, verr = nd(["index", "stats", "--verify", "m.ndx"], d) if code == 0 else (code, b"", "")
            row(f"s23-names: index merge {a} {b} (an index of no documents)", f"neardup index merge {a} {b} -o m.ndx; neardup index stats --verify m.ndx", "no panic; a merge that verifies, or exit 2 naming it",
                f"exit {code}, verify {vcode}; {short(err + verr, 60)}", not crashed(code, err) and (code == 0 and vcode == 0 or code == 2))
        with tmpfs(d, "64k") as mnt:
            if mnt is None:
                row("s23-names: step summary when --update fails", "", "", "skipped (not root)", True)
                return
            fill(mnt)
            write(os.path.join(d, "s.md"), "# an earlier step\n")
            before = sha(os.path.join(d, "s.md"))
            code, _, err = nd(["check", "-q", "--output-format", "github", "--step-summary", "s.md", "--index", os.path.join(mnt, "s.ndx"), "--update", "r.jsonl"], d)
            row("s23-names: --step-summary when --update fails on a full disk", "neardup check --output-format github --step-summary s.md --index full/s.ndx --update r.jsonl",
                "exit 2; s.md as it was", f"exit {code}; s.md {'unchanged' if sha(os.path.join(d, 's.md')) == before else 'CHANGED'}; {short(err, 50)}",
                code == 2 and sha(os.path.join(d, "s.md")) == before)


def case_s23_resident():
    """Session 23: records holding 1 MB besides a short text (300 MB), at
    --memory-limit 64M: peak resident set (file pages of mapped inputs
    included) within the limit plus a fixed allowance (64 MiB)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "fat.jsonl"), "w") as f:
            raw = "x" * (1 << 20)
            for i in range(300):
                f.write(json.dumps({"id": i, "raw": raw, "text": f"short text number {i % 30} here with a few words"}) + "\n")
        limit = ["--memory-limit", "64M", "--tmp-dir", d]
        for args, stdin in [(["clean", "-q", *limit, "fat.jsonl", "-o", "o.jsonl"], None), (["clean", "-q", "--annotate", *limit, "fat.jsonl", "-o", "o.jsonl"], None),
                            (["clean", "-q", "--annotate", *limit, "fat.jsonl", "--out-dir", "od"], None), (["clean", "-q", "--annotate", *limit, "-", "-o", "o.jsonl"], "fat.jsonl"),
                            (["clean", "-q", *limit, "fat.jsonl", "-o", "o.jsonl", "--index", "f.ndx", "--update"], None), (["scan", "-q", *limit, "fat.jsonl"], None)]:
            code, mib, err = peak_rss(args, d, stdin=open(os.path.join(d, stdin), "rb").read() if stdin else None)
            shown = " ".join(a for a in args if a not in ("-q", d, "--tmp-dir")) + (f" < {stdin}" if stdin else "")
            row(f"s23-resident: 300 records of 1 MB, {shown[:60]}", f"neardup {shown}", "exit 0; peak within 64M + 64 MiB", f"exit {code}; {mib} MiB", code == 0 and mib <= 128)
            remove(d, "f.ndx")


def case_s23_dirs():
    """Session 23: a directory to make where something that is no directory
    is in the way and its name does not show it (a trailing slash after a
    file, a link to nothing, a link loop, a path under a file): exit 2
    saying `not a directory` (issue 14: not `File exists`), nothing made."""
    with set_up() as d:
        os.symlink("nowhere", os.path.join(d, "dangling"))
        os.symlink("loop", os.path.join(d, "loop"))
        for where in ["r.jsonl/", "dangling", "loop", "loop/spool", "a.txt/x"]:
            for how, args, env in [("--tmp-dir", ["--tmp-dir", where], None), ("TMPDIR", [], {"TMPDIR": os.path.join(d, where)}), ("--out-dir", ["--out-dir", where], None),
                                   ("-o", ["-o", os.path.join(where, "o.jsonl")], None)]:
                before = sorted(os.listdir(d))
                code, _, err = nd(["clean", "-q", "--memory-limit", "64K", *args, "r.jsonl"], d, env=env)
                said = "not a directory" in err or "Too many levels of symbolic links" in err
                ok = code == 2 and said and "File exists" not in err and sorted(os.listdir(d)) == before
                row(f"s23-dirs: {how} {where}", f"neardup clean --memory-limit 64K {how} {where} r.jsonl", "exit 2 saying what is not a directory; nothing made", f"exit {code}; {short(err, 80)}", ok)


def case_s24_archives():
    """Session 24: an output named as an archive (`-o out.tgz` wrote plain
    text under a gzip name, `out.tar.gz` a gzip stream no tar reads, `.zip`
    and `.7z` plain text): refused by name, exit 2, nothing written."""
    with set_up() as d:
        for args in [["-o", "out.tgz"], ["-o", "out.tar.gz"], ["-o", "OUT.TAR.ZST"], ["-o", "out.tar"], ["-o", "out.zip"], ["-o", "out.7z"],
                     ["-o", "o.jsonl", "--report", "r.json.tgz"], ["-o", "o.jsonl", "--html", "p.html.zip"]]:
            before = sorted(os.listdir(d))
            code, _, err = nd(["clean", "-q", "r.jsonl", *args], d)
            ok = code == 2 and "archives" in err and sorted(os.listdir(d)) == before
            row(f"s24-archives: clean {' '.join(args)}", f"neardup clean r.jsonl {' '.join(args)}", "exit 2 naming the archive; nothing written",
                f"exit {code}; {short(err, 70)}" + ("" if sorted(os.listdir(d)) == before else f"; WROTE {sorted(set(os.listdir(d)) - set(before))}"), ok)


def index_docs(d, name):
    code, out, _ = nd(["index", "stats", "--json", name], d)
    return json.loads(out)["documents"] if code == 0 else None


def case_s24_merge():
    """Session 24: `index merge` corner cases: an index merged with an empty
    one, then with itself again (a copy of its documents under another
    header); indexes of other settings; a cut, a flipped header and a
    flipped data chunk, as A, as B, and with -o onto the other input."""
    with set_up() as d:
        open(os.path.join(d, "empty.jsonl"), "w").close()
        nd(["index", "build", "-q", "r.jsonl", "-o", "a.ndx"], d)
        nd(["index", "build", "-q", "empty.jsonl", "-o", "e.ndx"], d)
        nd(["index", "build", "-q", "a.txt", "-o", "b.ndx"], d)
        nd(["index", "merge", "a.ndx", "e.ndx", "-o", "ae.ndx"], d)
        code, _, err = nd(["index", "merge", "ae.ndx", "a.ndx", "-o", "aea.ndx"], d)
        docs = index_docs(d, "aea.ndx") if code == 0 else None
        row("s24-merge: (a + empty) + a", "neardup index merge a.ndx e.ndx -o ae.ndx; neardup index merge ae.ndx a.ndx -o aea.ndx",
            "refused (exit 2), or each of a's 40 documents once", f"exit {code}; {docs} documents; {short(err, 60)}", code == 2 or docs == 40)
        for flags, name in [(["--seed", "7"], "seed"), (["--level", "docs"], "level"), (["--doc-shingle", "4"], "doc-shingle"), (["--threshold", "0.7"], "threshold")]:
            nd(["index", "build", "-q", *flags, "a.txt", "-o", f"x-{name}.ndx"], d)
            code, _, err = nd(["index", "merge", "a.ndx", f"x-{name}.ndx", "-o", "m.ndx"], d)
            row(f"s24-merge: an index of other settings ({' '.join(flags)})", f"neardup index merge a.ndx x-{name}.ndx -o m.ndx", "exit 2 naming the setting; no m.ndx",
                f"exit {code}; {short(err, 70)}", code == 2 and "other settings" in err and not os.path.exists(os.path.join(d, "m.ndx")))
        with open(os.path.join(d, "b.ndx"), "rb") as f:
            whole = f.read()
        bad = {"cut.ndx": whole[: len(whole) // 2], "head.ndx": whole[:40] + bytes([whole[40] ^ 0xFF]) + whole[41:],
               "chunk.ndx": whole[: len(whole) // 2] + bytes([whole[len(whole) // 2] ^ 1]) + whole[len(whole) // 2 + 1:]}
        for name, data in bad.items():
            write(os.path.join(d, name), data)
            for a, b, out in [(name, "a.ndx", "m.ndx"), ("a.ndx", name, "m.ndx"), ("a.ndx", name, "a.ndx")]:
                before = {p: sha(os.path.join(d, p)) for p in ("a.ndx", name)}
                code, _, err = nd(["index", "merge", a, b, "-o", out], d)
                same = before == {p: sha(os.path.join(d, p)) for p in ("a.ndx", name)}
                made = os.path.exists(os.path.join(d, "m.ndx"))
                row(f"s24-merge: {a} + {b} -o {out}", f"neardup index merge {a} {b} -o {out}", "exit 2 naming the corrupt index; nothing written",
                    f"exit {code}; {short(err, 60)}" + ("" if same else "; CHANGED") + ("; m.ndx WRITTEN" if made else ""), code == 2 and name in err and same and not made)


def case_s24_html():
    """Session 24: ids and texts that would end the page's script element or
    inject markup (`</script>`, `<!--`, U+2028, an `<img onerror>`), in the
    HTML report whole, in chunks and on standard output: the page holds no
    `</script` but its own three; and a 1 MB id."""
    body = "A paragraph long enough to be judged on its own words, as any other one here."
    ids = ["</script><script>alert(1)</script>", "<!--", "x\u2028y", "<img src=x onerror=alert(2)>", "a\"b'c", "\x1b[31mred", "]]><!"]
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "h.jsonl"), "w") as f:
            for x in ids:
                f.write(json.dumps({"id": x, "text": body + "\n\n</script><script>alert(3)</script> " + body}) + "\n")
        for args, page in [(["scan", "-q", "h.jsonl", "--html", "p.html"], "p.html"), (["scan", "-q", "--memory-limit", "64K", "--tmp-dir", d, "h.jsonl", "--html", "p.html"], "p.html"),
                           (["scan", "-q", "--output-format", "html", "h.jsonl"], None)]:
            code, out, err = nd(args, d)
            html = out.decode("utf-8", "replace") if page is None else open(os.path.join(d, page), encoding="utf-8").read()
            closes = html.count("</script")
            shown = " ".join(a for a in args if a != d)
            row(f"s24-html: hostile ids, {shown[:50]}", f"neardup {shown}", "exit 0; only the page's own 3 `</script`", f"exit {code}; {closes} `</script`", code == 0 and closes == 3)
        with open(os.path.join(d, "big.jsonl"), "w") as f:
            for i in range(3):
                f.write(json.dumps({"id": "<" * (1 << 20) + str(i), "text": body}) + "\n")
        code, _, err = nd(["scan", "-q", "big.jsonl", "--html", "b.html"], d)
        closes = open(os.path.join(d, "b.html"), encoding="utf-8").read().count("</script") if code == 0 else None
        row("s24-html: ids of 1 MB of `<`", "neardup scan big.jsonl --html b.html", "exit 0; 3 `</script`", f"exit {code}; {closes}; {short(err, 50)}", code == 0 and closes == 3)


def case_s24_parquet_ids():
    """Session 24: Parquet id columns of NaN (become null), timestamps,
    dates and decimals (refused by session 23's main, `column "id" holds
    Timestamp(µs), not strings or numbers`, under the default --id-field):
    read, as the strings a JSON Lines record would hold."""
    try:
        import datetime
        import decimal

        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        row("s24-parquet-ids", "", "", "skipped (no pyarrow)", True)
        return
    body = "A paragraph long enough to be judged on its own words, as any other one here."
    texts = [body, body, "something else entirely different with its own many words ok"]
    columns = {"nan": [float("nan"), float("nan"), 1.5], "timestamp": [datetime.datetime(2024, 1, i) for i in (1, 2, 3)],
               "date": [datetime.date(2024, 1, 1)] * 3, "decimal": [decimal.Decimal("1.10"), decimal.Decimal("2.20"), decimal.Decimal("3.30")],
               "uuid": pa.array([bytes([i]) * 16 for i in range(3)], pa.binary(16))}
    with tempfile.TemporaryDirectory() as d:
        for name, ids in columns.items():
            pq.write_table(pa.table({"id": ids, "text": texts}), os.path.join(d, f"{name}.parquet"))
            code, out, err = nd(["clean", "-q", f"{name}.parquet", "-o", "o.parquet", "--report", "r.json", "--json"], d)
            shown = None
            if code == 0:
                with open(os.path.join(d, "r.json")) as f:
                    shown = [m["document"]["id"] for m in json.load(f)["near_duplicates"]["cluster_list"][0]["members"]]
            row(f"s24-parquet-ids: an id column of {name}", f"neardup clean {name}.parquet -o o.parquet --report r.json --json", "exit 0; the ids as strings (NaN: null)",
                f"exit {code}; ids {shown}; {short(err, 60)}", code == 0 and shown is not None and all(isinstance(i, str) for i in shown))
        scraped = pa.array([datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 3), datetime.datetime(2024, 1, 2)], pa.timestamp("ms", tz="UTC"))
        pq.write_table(pa.table({"id": ["a", "b", "c"], "text": [body, body, body], "scraped": scraped}), os.path.join(d, "keep.parquet"))
        code, out, err = nd(["scan", "-q", "--json", "--keep", "newest:scraped", "keep.parquet"], d)
        kept = json.loads(out)["near_duplicates"]["cluster_list"][0]["kept"]["id"] if code == 0 else None
        row("s24-parquet-ids: --keep newest: a timestamp column", "neardup scan --json --keep newest:scraped keep.parquet", "exit 0; b (the newest) kept", f"exit {code}; kept {kept}; {short(err, 60)}", kept == "b")


PY_PRELUDE = """
import neardup, os, json, signal, threading
body = "A paragraph long enough to be judged on its own words, as any other one here."
recs = [{"id": i, "text": body if i % 2 else body + " and some more words to be different"} for i in range(40)]
open("given.jsonl", "w").write("".join(json.dumps(r) + "\\n" for r in recs))
def stop(event):
    if event[0] == "stage":
        raise RuntimeError("stop")
def interrupt(event):
    if event[0] == "stage":
        os.kill(os.getpid(), signal.SIGINT)
def attempt(run):
    try:
        run()
        print("finished")
    except BaseException as e:
        print(type(e).__name__)
"""


def case_s24_python():
    """Session 24: the Python package (NEARDUP_PYTHON, default this
    interpreter; skipped when it cannot import neardup) used carelessly: a
    progress callback that raises, Ctrl-C while the engine runs, a generator
    that raises during an update, a run failing on one thread while another
    holds an index's lock, options of the wrong type: a Python exception,
    never a crash, and no file changed by a run that raised."""
    python = os.environ.get("NEARDUP_PYTHON", sys.executable)
    if subprocess.run([python, "-c", "import neardup"], capture_output=True).returncode != 0:
        row("s24-python", "", "", f"skipped ({python} cannot import neardup)", True)
        return
    cases = [
        ("a progress callback raises in clean(out_dir=)", "attempt(lambda: neardup.clean(paths=['given.jsonl'], out_dir='od', progress=stop))", "RuntimeError"),
        ("a progress callback raises in an update", "attempt(lambda: neardup.Index.create('seen.ndx').update(recs, progress=stop))", "RuntimeError"),
        ("a progress callback raises in Index.build", "attempt(lambda: neardup.Index.build('built.ndx', recs, progress=stop))", "RuntimeError"),
        ("Ctrl-C during clean(out_dir=)", "attempt(lambda: neardup.clean(paths=['given.jsonl'], out_dir='od', progress=interrupt))", "KeyboardInterrupt"),
        ("Ctrl-C during scan(index=, update=True)", "attempt(lambda: neardup.scan(paths=['given.jsonl'], index='seen.ndx', update=True, progress=interrupt))", "KeyboardInterrupt"),
        ("a generator raising during an update", "def g():\n    yield from recs\n    raise ValueError('boom')\nattempt(lambda: neardup.Index.create('seen.ndx').update(g()))", "ValueError"),
        ("threads=2**70", "attempt(lambda: neardup.clean(recs, threads=2**70))", "TypeError"),
        ("memory_limit=-5", "attempt(lambda: neardup.clean(recs, memory_limit=-5))", "TypeError"),
        ("threshold=nan", "attempt(lambda: neardup.clean(recs, threshold=float('nan')))", "NeardupError"),
        ("a record whose text is None", "attempt(lambda: neardup.clean([{'id': 1, 'text': None}]))", "NeardupError"),
        ("Index.build over its own input", "attempt(lambda: neardup.Index.build('given.jsonl', paths=['given.jsonl']))", "NeardupError"),
        ("Index of a FIFO", "os.mkfifo('f.ndx')\nattempt(lambda: neardup.Index('f.ndx'))\nos.remove('f.ndx')", "NeardupError"),
    ]
    for name, code, expected in cases:
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([python, "-c", PY_PRELUDE + code + "\nprint(sorted(os.listdir('.')))"], cwd=d, capture_output=True, text=True, timeout=120)
            lines = p.stdout.split("\n")
            got, left = (lines[0], lines[1]) if len(lines) > 1 else (p.stdout, "")
            ok = p.returncode == 0 and got == expected and left == "['given.jsonl']"
            row(f"s24-python: {name}", code.splitlines()[-1][:90], f"{expected}; nothing but given.jsonl", f"rc {p.returncode}; {got}; {left} {short(p.stderr, 60)}", ok)
    left = """
import random, sys, threading
rng = random.Random(1)
vocab = [f"w{i}" for i in range(3000)]
many = [{"id": i, "text": " ".join(rng.choice(vocab) for _ in range(60))} for i in range(20000)]
stream = neardup.clean_stream(many, memory_limit="1M", batch_size=10, index="s.ndx", update=True)
next(stream)
if sys.argv[1] == "break":
    del stream
    for batch in neardup.clean_stream(many, memory_limit="1M", batch_size=10, index="b.ndx", update=True):
        break
    done = []
    t = threading.Thread(target=lambda: done.append(neardup.scan(many[:100], index="b.ndx", update=True).status), daemon=True)
    t.start()
    t.join(60)
    print(done, neardup.Index("b.ndx").documents if done else None)
print("exiting", flush=True)
"""
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([python, "-c", PY_PRELUDE + left, "break"], cwd=d, capture_output=True, text=True, timeout=300)
        lines = p.stdout.split("\n")
        row("s24-python: `break` out of a clean_stream(update=True) loop, then another update", "for b in neardup.clean_stream(..., index='b.ndx', update=True): break; neardup.scan(..., index='b.ndx', update=True)",
            "the second update runs at once (the index holds its 100 documents only)", f"rc {p.returncode}; {lines[:1]} {short(p.stderr, 60)}", p.returncode == 0 and lines[0] == "[0] 100")
        codes = [subprocess.run([python, "-c", PY_PRELUDE + left, "held"], cwd=d, capture_output=True, text=True, timeout=300).returncode for _ in range(8)]
        row("s24-python: the interpreter exits with a clean_stream still going (8 runs)", "s = neardup.clean_stream(...); next(s); exit", "exit 0 each time", f"exits {codes}", codes == [0] * 8)
    script = PY_PRELUDE + """
started, failed = threading.Event(), threading.Event()
def wait(event):
    if event[0] == "stage" and not started.is_set():
        started.set()
        failed.wait(60)
a = threading.Thread(target=lambda: neardup.scan(paths=["given.jsonl"], index="new/seen.ndx", update=True, progress=wait))
a.start()
started.wait(60)
attempt(lambda: neardup.scan(paths=["missing.jsonl"]))
print(os.path.exists("new/seen.ndx.lock"))
failed.set()
a.join()
"""
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([python, "-c", script], cwd=d, capture_output=True, text=True, timeout=120)
        lines = p.stdout.split("\n")
        ok = p.returncode == 0 and lines[:2] == ["NeardupOSError", "True"]
        row("s24-python: a run failing on one thread while another holds an index's lock", "neardup.scan(missing) beside neardup.scan(index=, update=True) on a thread",
            "NeardupOSError; the other's lock file still there", f"rc {p.returncode}; {lines[:2]} {short(p.stderr, 60)}", ok)


def case_s25_flags():
    """Session 25: numeric and string flags at their edges on each
    subcommand that takes them (empty, negative, -0, 2^64, hex, fullwidth
    digits, fractions where integers are meant, 1e-400 that reads as 0):
    exit 2 naming the flag, nothing written."""
    with set_up() as d:
        edges = [("--threads", ["", "-1", "18446744073709551616", "0x10", "\uff11", "1.5"]), ("--seed", ["18446744073709551616", "-0", "1e3"]),
                 ("--min-words", ["-1", "1.5"]), ("--threshold", ["0", "-0", "1e-400", "1.0000001", "", "0x1"]), ("--block-threshold", ["0", "1e-400", "1.5"]),
                 ("--preview", ["-1"]), ("--num-perm", ["18446744073709551616"]), ("--max-gap", ["-1"]), ("--hamming", ["-1"])]
        for flag, values in edges:
            for value in values:
                for sub in (["scan", "-q"], ["index", "build", "-q", "-o", "x.ndx"]):
                    if flag == "--preview" and sub[0] == "index":
                        continue
                    code, _, err = nd([*sub, f"{flag}={value}", "r.jsonl"], d, timeout=60)
                    made = os.path.exists(os.path.join(d, "x.ndx"))
                    ok = code == 2 and flag in err and not made and not crashed(code, err)
                    row(f"s25-flags: {sub[0]} {flag}={value!r}", f"neardup {' '.join(sub)} {flag}='{value}' r.jsonl", "exit 2 naming the flag; nothing written",
                        f"exit {code}; {short(err, 70)}" + ("; x.ndx WRITTEN" if made else ""), ok)
                    if made:
                        os.remove(os.path.join(d, "x.ndx"))
        for value in ["-1", "99999999999999999999", ""]:
            code, _, err = nd(["check", "-q", "--output-format", "github", f"--max-annotations={value}", "r.jsonl"], d)
            row(f"s25-flags: check --max-annotations={value!r}", f"neardup check --output-format github --max-annotations='{value}' r.jsonl", "exit 2 naming the flag",
                f"exit {code}; {short(err, 70)}", code == 2 and "--max-annotations" in err)
        for value in ["1", "100K"]:
            code, _, err = nd(["scan", "--tmp-dir", d, "r.jsonl"], d, env={"NEARDUP_AVAILABLE_MEMORY": value})
            import re
            named = re.search(r"as --memory-limit (\S+) does", err)
            ok = code == 0 and named is not None and named.group(1) == "64.0K"
            row(f"s25-flags: NEARDUP_AVAILABLE_MEMORY={value} (almost none)", f"NEARDUP_AVAILABLE_MEMORY={value} neardup scan r.jsonl", "a run in chunks; its note names a limit --memory-limit takes (64K at least)",
                f"exit {code}; {named.group(0) if named else short(err, 60)}", ok)


def case_s25_check():
    """Session 25: `check` limits spelled as a careless user spells them,
    each exit status as the README gives it (0 within, 1 over, 2 for a value
    that is no share, errors winning over 1 and --exit-zero); the JSON
    verdict agreeing with the exit status; --update on exit 1."""
    with set_up() as d:  # r.jsonl: 15 of 40 documents are copies (37.5%)
        for value, want in [("-0", 1), ("1e-400", 1), (" 5%", 1), ("+5%", 1), ("50 %", 0), ("1", 0), ("100%", 0), ("5e-1", 0), ("5%%", 2), ("-5%", 2), ("inf", 2),
                            ("nan%", 2), ("0x1", 2), ("\uff15%", 2), ("200%", 2), ("1/2", 2), ("1e309", 2)]:
            code, _, err = nd(["check", "-q", f"--max-dup-docs={value}", "r.jsonl"], d)
            row(f"s25-check: --max-dup-docs={value!r}", f"neardup check --max-dup-docs='{value}' r.jsonl", f"exit {want}" + (" naming the flag" if want == 2 else ""),
                f"exit {code}; {short(err, 60)}", code == want and (want != 2 or "--max-dup-docs" in err))
        for limits in [["--max-dup-docs", "50%", "--max-dup-blocks", "0", "--max-dup-bytes", "90%"], ["--max-dup-docs", "10%"], []]:
            code, out, err = nd(["check", "-q", "--json", *limits, "r.jsonl"], d)
            try:
                verdict = json.loads(out)["check"]
                agree = verdict["passed"] == (code == 0) and all(m["passed"] == (m["share"] <= m["limit"]) for m in verdict["measurements"])
                shown = [(m["name"], m["passed"]) for m in verdict["measurements"]]
            except (ValueError, KeyError, TypeError) as e:
                agree, shown = False, repr(e)
            row(f"s25-check: --json verdict, limits {' '.join(limits) or 'none'}", f"neardup check --json {' '.join(limits)} r.jsonl", "the check object agrees with the exit status",
                f"exit {code}; {shown}", code in (0, 1) and agree)
        code, _, err = nd(["check", "-q", "--exit-zero", "r.jsonl", "nope.jsonl"], d)
        row("s25-check: --exit-zero with a missing input", "neardup check --exit-zero r.jsonl nope.jsonl", "exit 2 (errors win)", f"exit {code}; {short(err, 60)}", code == 2 and "nope.jsonl" in err)
        code, _, err = nd(["check", "-q", "--index", "c.ndx", "--update", "r.jsonl"], d)
        docs = index_docs(d, "c.ndx")
        row("s25-check: --index --update over the limit (exit 1)", "neardup check --index c.ndx --update r.jsonl", "exit 1; the batch remembered (40 documents)",
            f"exit {code}; index {docs} documents", code == 1 and docs == 40)
        code, _, err = nd(["check", "-q", "--index", "c.ndx", "--update", "r.jsonl", "nope.jsonl"], d)
        row("s25-check: --index --update with a missing input", "neardup check --index c.ndx --update r.jsonl nope.jsonl", "exit 2; the index as it was (40)",
            f"exit {code}; index {index_docs(d, 'c.ndx')} documents", code == 2 and index_docs(d, "c.ndx") == 40)


def fionread(fd):
    import fcntl
    import struct
    import termios
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def case_s25_changing():
    """Session 25: inputs changing while a run reads them. A mapped input
    cut short while its pages are written into a FIFO (the write fails with
    EFAULT) or a pipe: the input named once as truncated, never the output;
    a file appended to, replaced by a rename, cut and regrown while a run
    in chunks reads it: exit 0, or 2 with a message naming it, and every
    output line a whole record."""
    with tempfile.TemporaryDirectory() as d:
        write_records(os.path.join(d, "big.jsonl"), 6000, 150)
        import shutil

        for how, extra in [("FIFO -o", []), ("FIFO -o", ["--memory-limit", "4M", "--tmp-dir", d]), ("stdout pipe", []), ("stdout pipe", ["--memory-limit", "4M", "--tmp-dir", d])]:
            shutil.copy(os.path.join(d, "big.jsonl"), os.path.join(d, "live.jsonl"))
            if os.path.lexists(os.path.join(d, "o.fifo")):
                os.remove(os.path.join(d, "o.fifo"))
            os.mkfifo(os.path.join(d, "o.fifo"))
            if how == "stdout pipe":
                r, w = os.pipe()
                p = subprocess.Popen([B, "clean", "-q", *extra, "live.jsonl"], cwd=d, stdout=w, stderr=subprocess.PIPE)
                os.close(w)
            else:
                p = subprocess.Popen([B, "clean", "-q", *extra, "live.jsonl", "-o", "o.fifo"], cwd=d, stderr=subprocess.PIPE)
                r = os.open(os.path.join(d, "o.fifo"), os.O_RDONLY)
            t = time.time()
            while fionread(r) < 65536 and time.time() - t < 60:
                time.sleep(0.05)
            time.sleep(0.3)
            os.truncate(os.path.join(d, "live.jsonl"), 100)
            while os.read(r, 1 << 20):
                pass
            os.close(r)
            err = p.stderr.read().decode("utf-8", "replace")
            code = p.wait(60)
            ok = code == 2 and err.startswith("neardup: live.jsonl: truncated while it was read") and err.count("live.jsonl") == 1 and "Bad address" not in err
            row(f"s25-changing: input cut short while written to a {how} {' '.join(extra[:2])}", f"neardup clean {' '.join(extra[:2])} live.jsonl > {how}; truncate -s 100 live.jsonl",
                "exit 2 naming the input once as truncated", f"exit {code}; {short(err, 80)}", ok)
        for how in ["append-half", "append-lines", "rename-replace", "truncate-regrow"]:
            for extra in [["--memory-limit", "1M", "--tmp-dir", d], ["--memory-limit", "1M", "--tmp-dir", d, "--no-mmap"]]:
                shutil.copy(os.path.join(d, "big.jsonl"), os.path.join(d, "live.jsonl"))
                p = subprocess.Popen([B, "clean", "-q", *extra, "live.jsonl", "-o", "ol.jsonl"], cwd=d, stderr=subprocess.PIPE)
                time.sleep(0.3)
                if how == "append-half":
                    with open(os.path.join(d, "live.jsonl"), "a") as f:
                        f.write('{"id": "half", "text": "abc')
                elif how == "append-lines":
                    with open(os.path.join(d, "live.jsonl"), "a") as f:
                        for i in range(2000):
                            f.write(json.dumps({"id": f"n{i}", "text": words(100, seed=99999 + i)}) + "\n")
                elif how == "rename-replace":
                    write(os.path.join(d, "new.jsonl"), '{"text": "x"}\n')
                    os.rename(os.path.join(d, "new.jsonl"), os.path.join(d, "live.jsonl"))
                else:
                    os.truncate(os.path.join(d, "live.jsonl"), 100)
                    with open(os.path.join(d, "live.jsonl"), "a") as f:
                        f.write('garbage"\n' * 300000)
                err = p.stderr.read().decode("utf-8", "replace")
                code = p.wait(120)
                whole = True
                if os.path.exists(os.path.join(d, "ol.jsonl")):
                    for line in open(os.path.join(d, "ol.jsonl"), "rb"):
                        try:
                            json.loads(line)
                        except ValueError:
                            whole = False
                    os.remove(os.path.join(d, "ol.jsonl"))
                ok = (code == 0 or code == 2 and "live.jsonl" in err) and whole and not crashed(code, err) and not temps(d)
                row(f"s25-changing: {how} during a chunked run {extra[-1] if extra[-1] == '--no-mmap' else ''}", f"neardup clean --memory-limit 1M {extra[-1] if extra[-1] == '--no-mmap' else ''} live.jsonl -o ol.jsonl ({how})",
                    "exit 0, or 2 naming the input; whole records out", f"exit {code}; whole {whole}; {short(err, 60)}", ok)


def case_s25_concurrent():
    """Session 25: an --update killed with SIGKILL while it holds the lock,
    then a new run (no wait, the index as it was, stale temporary files
    gone); an update in chunks and a whole one at once (no lost update)."""
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 6000, 150)
        for delay in [0.5, 2]:
            remove(d, "k.ndx", "k.ndx.lock")
            nd(["index", "build", "-q", "r.jsonl", "-o", "k.ndx"], d)
            before = sha(os.path.join(d, "k.ndx"))
            p = subprocess.Popen([B, "clean", "-q", "--memory-limit", "4M", "--tmp-dir", d, "big.jsonl", "--index", "k.ndx", "--update", "-o", "ok.jsonl"], cwd=d, stderr=subprocess.DEVNULL)
            terminated_after(p, delay, signal.SIGKILL)
            intact = sha(os.path.join(d, "k.ndx")) == before
            t = time.time()
            code, _, err = nd(["clean", "-q", "a.txt", "--index", "k.ndx", "--update", "-o", "ok2.txt"], d, timeout=60)
            took = time.time() - t
            docs = index_docs(d, "k.ndx")
            # (A run that ended before the kill, on a quiet machine, is whole: 6,000 more.)
            killed = p.returncode != 0
            whole = killed and intact and docs == 41 and not os.path.exists(os.path.join(d, "ok.jsonl"))
            finished = not killed and docs == 6041
            ok = (whole or finished) and code == 0 and took < 10 and not temps(d)
            row(f"s25-concurrent: SIGKILL at {delay}s holding the lock, then a new --update", "neardup clean --memory-limit 4M big.jsonl --index k.ndx --update & kill -9; neardup clean a.txt --index k.ndx --update",
                "index intact; the new run neither waits nor fails; 41 documents (6,041 if the first ended before the kill); no temp", f"killed {p.returncode}; intact {intact}; exit {code} in {took:.1f}s; {docs} documents; temps {len(temps(d))}", ok)
            os.remove(os.path.join(d, "ok2.txt"))
        for i in range(2):
            with open(os.path.join(d, f"batch{i}.jsonl"), "w") as f:
                for j in range(3000):
                    f.write(json.dumps({"id": f"b{i}-{j}", "text": words(100, seed=10_000 * (i + 1) + j)}) + "\n")
        for first in ["chunked", "whole", "check"]:
            remove(d, "c.ndx", "c.ndx.lock")
            nd(["index", "build", "-q", "a.txt", "-o", "c.ndx"], d)
            a = ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", d, "batch0.jsonl", "--index", "c.ndx", "--update", "-o", "oa.jsonl"]
            b = ["clean", "-q", "batch1.jsonl", "--index", "c.ndx", "--update", "-o", "ob.jsonl"]
            if first == "whole":
                a, b = b, a
            if first == "check":
                b = ["check", "-q", "--exit-zero", "batch1.jsonl", "--index", "c.ndx", "--update"]
            pa = subprocess.Popen([B] + a, cwd=d, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
            time.sleep(0.3)
            pb = subprocess.Popen([B] + b, cwd=d, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
            codes = [pa.wait(300), pb.wait(300)]
            docs = index_docs(d, "c.ndx")
            row(f"s25-concurrent: two --update at once, {first} first", f"neardup {' '.join(a[:2])} ... & neardup {' '.join(b[:2])} ...", "both exit 0; 6,001 documents (none lost)",
                f"exits {codes}; {docs} documents", codes == [0, 0] and docs == 6001)


def case_s25_tmp():
    """Session 25: --tmp-dir on a 256 KiB tmpfs (full while spooling) and
    on a read-only one (as root, which a mode bit does not stop): exit 2
    naming it, nothing left behind, no output, the index as it was."""
    with set_up() as d:
        write_records(os.path.join(d, "big.jsonl"), 6000, 150)
        nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
        with tmpfs(d, "256k") as mnt:
            if mnt is None:
                row("s25-tmp: --tmp-dir on a tiny tmpfs", "", "", "skipped (not root)", True)
                return
            ro = os.path.join(d, "ro")
            os.mkdir(ro)
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", ro]).returncode != 0:
                ro = None
            try:
                for where in [mnt] + ([ro, os.path.join(ro, "sub")] if ro else []):
                    for args, stdin in [(["clean", "-q", "big.jsonl", "-o", "ot.jsonl"], None), (["scan", "-q", "-"], "big.jsonl"),
                                        (["clean", "-q", "big.jsonl", "-o", "ot.jsonl", "--index", "u.ndx", "--update"], None)]:
                        before = sha(os.path.join(d, "u.ndx"))
                        code, _, err = nd([*args[:2], "--memory-limit", "1M", "--tmp-dir", where, *args[2:]], d, stdin=open(os.path.join(d, stdin), "rb").read() if stdin else None)
                        left = os.listdir(mnt) if os.path.isdir(mnt) else []
                        ok = code == 2 and os.path.basename(where) in err and not left and not os.path.exists(os.path.join(d, "ot.jsonl")) and sha(os.path.join(d, "u.ndx")) == before and not temps(d)
                        row(f"s25-tmp: --tmp-dir {os.path.relpath(where, d)} ({'full' if where == mnt else 'read-only'}), {' '.join(args[:2])}{' --update' if '--update' in args else ''}",
                            f"neardup {' '.join(args[:2])} --memory-limit 1M --tmp-dir {os.path.relpath(where, d)} ...", "exit 2 naming it; nothing left or written",
                            f"exit {code}; left {left}; {short(err, 70)}", ok)
            finally:
                if ro:
                    subprocess.run(["umount", ro])


def case_s25_records():
    """Session 25: odd records (a byte-order mark before line 2, as `cat`
    of two files with one makes, CR-only line ends, a 200k-deep text, ids
    of 100k nested arrays, 1e400, a NUL, a lone surrogate, 200,000 keys, a
    1 MB key, 10 MB of blanks), whole, in chunks and on standard input; and
    zstd with a bad checksum, a flipped byte, trailing garbage, two frames:
    no panic; exit 0, or 2 naming the input (and line); no output after a
    failure; the mark named as one."""
    cases = {
        "BOM before line 2": b'{"text":"a b c"}\n\xef\xbb\xbf{"text":"d e f"}\n', "CR-only line ends": b'{"text":"a b c"}\r{"text":"d e f"}\r',
        "a line of one CR": b'{"text":"a b c"}\n\r\n{"text":"d e f"}\n', "text 200k deep": b'{"text":' + b"[" * 200000 + b"]" * 200000 + b"}\n",
        "id 100k deep": b'{"id":' + b"[" * 100000 + b"]" * 100000 + b',"text":"a b c"}\n', "ids 1e400 and -0": b'{"id":1e400,"text":"a b c"}\n{"id":-0,"text":"a b c"}\n',
        "id with NUL": b'{"id":"a\\u0000b","text":"a b c"}\n', "id a lone surrogate": b'{"id":"\\udc00","text":"a b c"}\n{"id":"\\ud800","text":"a b c"}\n',
        "reversed surrogate pair": b'{"text":"\\udc00\\ud800"}\n', "200,000 keys": b"{" + b",".join(b'"k%d":1' % i for i in range(200000)) + b',"text":"a b c"}\n',
        "a 1 MB key": b'{"' + b"k" * 1_000_000 + b'":1,"text":"a b c"}\n', "10 MB of blanks": b'{"text":"' + b" " * 10_000_000 + b'"}\n',
        "U+2028 in text": '{"text":"a\u2028b\u2029c"}\n'.encode(),
    }
    with tempfile.TemporaryDirectory() as d:
        for name, data in cases.items():
            write(os.path.join(d, "odd.jsonl"), data)
            for how, extra, stdin in [("whole", [], None), ("chunks", ["--memory-limit", "1M", "--tmp-dir", d], None), ("stdin", ["--memory-limit", "1M", "--tmp-dir", d], data)]:
                args = ["clean", "-q", *extra, "--format", "jsonl", "-" if stdin else "odd.jsonl", "-o", "oo.jsonl", "--report", "rep.json", "--json"]
                try:
                    code, _, err = nd(args, d, stdin=stdin, timeout=60)
                except subprocess.TimeoutExpired:
                    code, err = -1, "hung"
                made = [n for n in ["oo.jsonl", "rep.json"] if os.path.exists(os.path.join(d, n))]
                named = ("<stdin>" if stdin else "odd.jsonl") in err
                ok = not crashed(code, err) and (code == 0 and len(made) == 2 or code == 2 and named and not made)
                ok = ok and (name != "BOM before line 2" or "byte-order mark" in err)
                row(f"s25-records: {name} ({how})", f"neardup clean {' '.join(extra[:2])} --format jsonl {'- <' if stdin else ''} odd.jsonl -o oo.jsonl --report rep.json",
                    "exit 0, or 2 naming the input and nothing written", f"exit {code}; made {made}; {short(err, 70)}", ok)
                for n in made:
                    os.remove(os.path.join(d, n))
        r = records().encode()
        zs = subprocess.run(["zstd", "-q", "--check", "-c"], input=r, capture_output=True).stdout
        mid = len(zs) // 2
        for name, data, want in [("badsum.jsonl.zst", zs[:-4] + bytes([zs[-4] ^ 0xFF]) + zs[-3:], 2), ("flipped.jsonl.zst", zs[:mid] + bytes([zs[mid] ^ 0x55]) + zs[mid + 1:], 2),
                                 ("trailing.jsonl.zst", zs + b"garbage", 2), ("two-frames.jsonl.zst", zs + zs, 0)]:
            write(os.path.join(d, name), data)
            for how, extra, stdin in [("whole", [], None), ("chunks", ["--memory-limit", "1M", "--tmp-dir", d], None), ("stdin", [], data)]:
                code, _, err = nd(["clean", "-q", *extra, "-" if stdin else name, "-o", "oz.jsonl"], d, stdin=stdin)
                made = os.path.exists(os.path.join(d, "oz.jsonl"))
                ok = code == want and (want == 0 and made or want == 2 and not made and ("<stdin>" if stdin else name) in err) and not crashed(code, err)
                row(f"s25-records: {name} ({how})", f"neardup clean {' '.join(extra[:2])} {'- <' if stdin else ''} {name} -o oz.jsonl", f"exit {want}" + (" naming it, no output" if want else ""),
                    f"exit {code}; {short(err, 70)}", ok)
                if made:
                    os.remove(os.path.join(d, "oz.jsonl"))


def case_s25_paths():
    """Session 25: an --index or --reference that is a symbolic link loop
    or a dangling link; the same file given twice (by its name, a hard link,
    a directory and a link to it) to one --out-dir; a directory twice."""
    with set_up() as d:
        os.symlink("lp", os.path.join(d, "lp"))
        for flag in ["--index", "--reference"]:
            code, _, err = nd(["scan", "-q", flag, "lp", "r.jsonl"], d)
            row(f"s25-paths: {flag} a symbolic link loop", f"ln -s lp lp; neardup scan {flag} lp r.jsonl", "exit 2 naming the loop (not `no such index`)",
                f"exit {code}; {short(err, 80)}", code == 2 and "lp: Too many levels of symbolic links" in err and "no such index" not in err)
        code, _, err = nd(["scan", "-q", "--index", "lp", "--update", "r.jsonl"], d)
        row("s25-paths: --index a link loop --update", "neardup scan --index lp --update r.jsonl", "exit 2 naming the loop; nothing made",
            f"exit {code}; {short(err, 80)}", code == 2 and "lp" in err and not crashed(code, err))
        os.mkdir(os.path.join(d, "d1"))
        write(os.path.join(d, "d1", "t.txt"), TEXT)
        os.symlink("d1", os.path.join(d, "d2"))
        os.link(os.path.join(d, "a.txt"), os.path.join(d, "ha.txt"))
        # The same file reached from two paths is read once, with a warning
        # (lead, session 26; refused before, as one output path for two).
        for args in [["a.txt", "./a.txt"], ["d1", "d2"], ["d1", "d1/t.txt"]]:
            od = os.path.join(d, "od")
            shutil.rmtree(od, ignore_errors=True)
            code, _, err = nd(["clean", *args, "--out-dir", "od"], d)
            row(f"s25-paths: clean {' '.join(args)} --out-dir od", f"neardup clean {' '.join(args)} --out-dir od", "exit 0, read once with a warning; one file in od",
                f"exit {code}; {short(err, 80)}", code == 0 and ": read once" in err and len(os.listdir(od)) == 1)
        # A directory with nothing to read: never an empty pass (lead, session 25).
        os.mkdir(os.path.join(d, "void"))
        for args in [["check", "void"], ["check", "d1", "--glob", "*.jsonl"], ["clean", "void", "--out-dir", "vo"]]:
            code, out, err = nd(args, d)
            row(f"s25-paths: {' '.join(args)} (nothing to read)", f"neardup {' '.join(args)}", "exit 2 naming the directory; nothing written",
                f"exit {code}; {short(err, 80)}", code == 2 and err.startswith("neardup: void: no files" if "void" in args else "neardup: d1: no file in it matches") and not os.path.exists(os.path.join(d, "vo")))


def short_records(path, n=300, seed=3, vocab=40):
    """`n` six-word records of a small vocabulary (each a few shingles,
    sharing some), a fifth of them copies, as JSON Lines."""
    import random

    rng = random.Random(seed)
    texts = [" ".join(f"a{rng.randrange(vocab)}" for _ in range(6)) for _ in range(n)]
    texts += texts[: n // 5]
    with open(path, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": i, "text": t}) + "\n")
        for i in range(60):
            f.write(json.dumps({"id": f"long{i}", "text": "\n\n".join(words(25, seed=(i * 7 + j) % 30) for j in range(4))}) + "\n")


class Crafted:
    """An index file read for rewriting: its table, sections and records;
    `seal` gives the bytes with every chunk checksum and the header's made
    valid again (a crafted file, not a damaged one). Needs the xxhash module."""

    def __init__(self, data):
        import struct

        self.b = bytearray(data)
        self.table_at, self.table_len, self.sums_at = struct.unpack_from("<QQQ", self.b, 24)
        self.table = json.loads(bytes(self.b[self.table_at:self.table_at + self.table_len]))

    def records(self, name, n):
        s = self.table["sections"][name]
        return [bytes(self.b[at:at + n]) for at in range(s["offset"], s["offset"] + s["len"], n)]

    def set_records(self, name, recs):
        s = self.table["sections"][name]
        data = b"".join(recs)
        assert len(data) == s["len"], name
        self.b[s["offset"]:s["offset"] + len(data)] = data

    def seal(self):
        import struct
        import xxhash

        sums = b"".join(struct.pack("<Q", xxhash.xxh3_64_intdigest(bytes(self.b[at:at + 4096]))) for at in range(4096, self.sums_at, 4096))
        table = json.dumps(self.table, separators=(",", ":")).encode()
        out = bytearray(self.b[: self.sums_at]) + sums + table
        struct.pack_into("<QQQ", out, 16, len(out), self.sums_at + len(sums), len(table))
        h = xxhash.xxh3_64()
        for part in (bytes(out[:56]), sums, table):
            h.update(part)
        out[56:64] = struct.pack("<Q", h.intdigest())
        return bytes(out)


def case_s28_crafted():
    """Session 28: indexes of format 2 crafted with valid checksums but
    numbers no write makes, in the sections of short documents (few,
    few_sets) and those a write copies: documents and blocks past the end
    (2^32 - 1, and the first number past it), unsorted records, one shingle
    held by every short document, sets with no shingles, sections cut or
    stretched to the end of the data, a format-1 header over format-2
    sections. Read (scan, check, stats), updated, merged on either side."""
    import struct

    try:
        import xxhash  # noqa: F401
    except ImportError:
        row("s28-crafted", "", "", "skipped (no xxhash module: pip install xxhash)", True)
        return
    with tempfile.TemporaryDirectory() as d:
        short_records(os.path.join(d, "f.jsonl"))
        nd(["index", "build", "-q", "f.jsonl", "-o", "f.ndx"], d)
        good = open(os.path.join(d, "f.ndx"), "rb").read()
        docs = index_docs(d, "f.ndx")
        u32 = lambda v: struct.pack("<I", v)

        def records(name, n, fn):
            def edit(ix):
                ix.set_records(name, fn(ix.records(name, n)))
            return edit

        def last(at, v):
            return lambda rs: rs[:-1] + [rs[-1][:at] + u32(v) + rs[-1][at + 4:]]

        def no_dir(ix):
            ix.table["sections"]["few"]["dir_bits"] = 0

        def length(name, f):
            def edit(ix):
                s = ix.table["sections"][name]
                s["len"] = f(s, ix)
            return edit

        cases = {
            "few: document 2^32-1": [records("few", 12, last(8, 0xFFFFFFFF))],
            "few: first document past the end": [records("few", 12, last(8, docs))],
            "few_sets: document 2^32-1": [records("few_sets", 12, last(0, 0xFFFFFFFF))],
            "few_sets: first document past the end": [records("few_sets", 12, last(0, docs))],
            "bands: document 2^32-1": [records("bands", 16, last(12, 0xFFFFFFFF))],
            "postings: block 2^32-1": [records("postings", 8, last(4, 0xFFFFFFFF))],
            "members: block 2^32-1": [records("members", 8, last(0, 0xFFFFFFFF))],
            "exact: source 2^32-1": [records("exact", 32, lambda rs: [rs[0][:24] + u32(0xFFFFFFFF) + rs[0][28:]] + rs[1:])],
            "few: unsorted": [no_dir, records("few", 12, lambda rs: rs[::-1])],
            "few_sets: unsorted": [records("few_sets", 12, lambda rs: rs[::-1])],
            "few: one shingle held by every short document": [no_dir, records("few", 12, lambda rs: sorted((struct.pack("<Q", 12345) + r[8:] for r in rs), key=lambda r: struct.unpack("<I", r[8:])[0]))],
            "few_sets: no shingles (zero-length sets)": [length("few_sets", lambda s, ix: 0)],
            "few: cut to half": [no_dir, length("few", lambda s, ix: s["len"] // 24 * 12)],
            "few: length not a record's": [length("few", lambda s, ix: s["len"] - 5)],
            "few_sets: stretched to the end of the data": [length("few_sets", lambda s, ix: (ix.sums_at - s["offset"]) // 12 * 12)],
            "few: directory of 32 bits": [lambda ix: ix.table["sections"]["few"].__setitem__("dir_bits", 32)],
            "format 1 header over format-2 sections": [lambda ix: ix.b.__setitem__(slice(8, 12), u32(1))],
        }
        for name, edits in cases.items():
            ix = Crafted(good)
            for e in edits:
                e(ix)
            data = ix.seal()
            outcomes = []
            ok = True
            for args in [["scan", "-q", "--index", "x.ndx", "f.jsonl"], ["check", "-q", "--reference", "x.ndx", "f.jsonl"], ["index", "stats", "--verify", "x.ndx"],
                         ["scan", "-q", "--index", "x.ndx", "--update", "f.jsonl"], ["index", "merge", "f.ndx", "x.ndx", "-o", "m.ndx"], ["index", "merge", "x.ndx", "f.ndx", "-o", "m.ndx"]]:
                write(os.path.join(d, "x.ndx"), data)
                code, _, err = nd(args, d, timeout=120)
                changed = sha(os.path.join(d, "x.ndx")) != hashlib.sha256(data).hexdigest()[:12]
                made = os.path.exists(os.path.join(d, "m.ndx"))
                # A write from it either fails naming it (nothing written,
                # nothing changed) or writes an index every later run reads.
                if code == 0 and (made or changed):
                    target = "m.ndx" if made else "x.ndx"
                    later, _, later_err = nd(["scan", "-q", "--index", target, "f.jsonl"], d)
                    if later not in (0, 1):
                        ok = False
                        outcomes.append(f"{args[0]} {args[1]}: WROTE AN INDEX A LATER RUN REFUSES ({short(later_err, 50)})")
                if code == 2 and (changed or made):
                    ok = False
                    outcomes.append(f"{args[0]} {args[1]}: FAILED BUT WROTE")
                if crashed(code, err):
                    ok = False
                    outcomes.append(f"{args[0]} {args[1]}: CRASH {short(err, 60)}")
                outcomes.append(f"{code}")
                if made:
                    os.remove(os.path.join(d, "m.ndx"))
            row(f"s28-crafted: {name}", "neardup scan/check/stats --verify/--update/index merge (both sides) of x.ndx", "no crash; a failed write writes nothing; a write gives an index later runs read",
                "exits " + " ".join(o for o in outcomes if o.isdigit()) + "".join("; " + o for o in outcomes if not o.isdigit()), ok)


def case_s28_merge():
    """Session 28: `index merge` of format 1 (short documents with band
    records, the version set to 1) with format 2 (short documents by their
    shingles), both orders, into a third file and into either input; an
    index with itself, a copy and another spelling; `index stats` of each."""
    import struct

    with tempfile.TemporaryDirectory() as d:
        short_records(os.path.join(d, "f.jsonl"))
        with open(os.path.join(d, "one.jsonl"), "w") as f:
            for i in range(40):  # one shingle that 40 hold: band records
                f.write(json.dumps({"id": f"o{i}", "text": f"alpha bravo charlie delta echo x{i}"}) + "\n")
        nd(["index", "build", "-q", "f.jsonl", "-o", "f2.ndx"], d)
        nd(["index", "build", "-q", "one.jsonl", "-o", "f1.ndx"], d)
        data = bytearray(open(os.path.join(d, "f1.ndx"), "rb").read())
        data[8:12] = struct.pack("<I", 1)
        try:
            import xxhash  # noqa: F401
            data = Crafted(data).seal()
        except ImportError:
            pass  # left at version 2
        write(os.path.join(d, "f1.ndx"), data)
        shutil.copy(os.path.join(d, "f1.ndx"), os.path.join(d, "f1copy.ndx"))
        shutil.copy(os.path.join(d, "f2.ndx"), os.path.join(d, "f2copy.ndx"))
        for name in ["f1.ndx", "f2.ndx"]:
            code, out, err = nd(["index", "stats", "--verify", name], d)
            row(f"s28-merge: index stats --verify {name}", f"neardup index stats --verify {name}", "exit 0, its format named", f"exit {code}; {short(out.decode().splitlines()[0] if out else err, 70)}", code == 0 and b"format version" in out)
        for a, b in [("f1.ndx", "f2.ndx"), ("f2.ndx", "f1.ndx")]:
            code, _, err = nd(["index", "merge", a, b, "-o", "m.ndx"], d)
            docs = index_docs(d, "m.ndx") if code == 0 else None
            later, _, _ = nd(["scan", "-q", "--index", "m.ndx", "f.jsonl", "one.jsonl"], d)
            verify, _, _ = nd(["index", "stats", "--verify", "m.ndx"], d)
            row(f"s28-merge: {a} + {b} (format 1 and 2)", f"neardup index merge {a} {b} -o m.ndx", "exit 0; 40 + the other's documents; later runs read it",
                f"exit {code}; {docs} documents; verify {verify}; a later scan exits {later}", code == 0 and docs == 40 + index_docs(d, "f2.ndx") and verify == 0 and later in (0, 1))
            for out in [a, b]:
                shutil.copy(os.path.join(d, "f1.ndx"), os.path.join(d, "A1.ndx"))
                shutil.copy(os.path.join(d, "f2.ndx"), os.path.join(d, "A2.ndx"))
                names = {"f1.ndx": "A1.ndx", "f2.ndx": "A2.ndx"}
                code, _, err = nd(["index", "merge", names[a], names[b], "-o", names[out]], d)
                docs = index_docs(d, names[out]) if code == 0 else None
                row(f"s28-merge: {names[a]} + {names[b]} -o {names[out]} (output an input)", f"neardup index merge {names[a]} {names[b]} -o {names[out]}", "exit 0; the merge replaces it",
                    f"exit {code}; {docs} documents", code == 0 and docs == 40 + index_docs(d, "f2.ndx"))
        for a, b in [("f1.ndx", "f1.ndx"), ("f1.ndx", "f1copy.ndx"), ("f2.ndx", "f2copy.ndx"), ("f2.ndx", "./f2.ndx")]:
            refused(f"s28-merge: {a} with {b} (one index)", ["index", "merge", a, b, "-o", "m2.ndx"], d, [a, b, "m2.ndx"])


def case_s28_late():
    """Session 28: `--update` of an index of short records (format 2) that
    fails late: standard output a pipe with no reader, the index's own
    directory full (a 40 MiB tmpfs), the output or report on a full tmpfs;
    whole and at --memory-limit 64M. The index is left byte for byte."""
    with tempfile.TemporaryDirectory() as d:
        write_records_short = lambda path, n, seed: open(path, "w").write("".join(json.dumps({"id": f"{seed}-{i}", "text": words(6, seed=seed * 1000003 + i)}) + "\n" for i in range(n)))
        write_records_short(os.path.join(d, "a.jsonl"), 100000, 1)
        write_records_short(os.path.join(d, "b.jsonl"), 100000, 2)
        nd(["index", "build", "-q", "a.jsonl", "-o", "x.ndx"], d)
        before = sha(os.path.join(d, "x.ndx"))
        for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
            for args in [["scan", "-q", "--json", "b.jsonl"], ["check", "-q", "b.jsonl"], ["clean", "-q", "b.jsonl", "-o", "-"]]:
                rfd, wfd = os.pipe()
                os.close(rfd)
                with os.fdopen(wfd, "wb") as out:
                    code, _, err = nd(args + limit + ["--index", "x.ndx", "--update"], d, stdout=out)
                same = sha(os.path.join(d, "x.ndx")) == before
                row(f"s28-late: closed stdout, {' '.join(args[:2])} --update {' '.join(limit[:2])}", f"neardup {' '.join(args)} --index x.ndx --update >(closed pipe)", "index unchanged; no panic",
                    f"exit {code}; index {'unchanged' if same else 'CHANGED'}; {short(err, 60)}", same and not crashed(code, err))
        with tmpfs(d, "40m") as mnt:
            if mnt is None:
                row("s28-late: disk full", "mount tmpfs", "", "skipped (not root)", True)
                return
            shutil.copy(os.path.join(d, "x.ndx"), os.path.join(mnt, "x.ndx"))
            for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
                for args in [["scan", "-q", "b.jsonl"], ["check", "-q", "b.jsonl"], ["clean", "-q", "b.jsonl", "-o", "o.jsonl"]]:
                    code, _, err = nd(args + limit + ["--index", "small/x.ndx", "--update"], d)
                    same = sha(os.path.join(mnt, "x.ndx")) == before
                    left = temps(mnt) + temps(d)
                    row(f"s28-late: the index's disk full, {' '.join(args[:2])} {' '.join(limit[:2])}", f"neardup {' '.join(args)} --index small/x.ndx --update (24 MB index, 40 MiB tmpfs)", "exit 2; index unchanged; no temp, no output",
                        f"exit {code}; index {'unchanged' if same else 'CHANGED'}; temps {len(left)}; o.jsonl {os.path.exists(os.path.join(d, 'o.jsonl'))}; {short(err, 50)}",
                        code == 2 and same and not left and not os.path.exists(os.path.join(d, "o.jsonl")))
            os.remove(os.path.join(mnt, "x.ndx"))
            fill(mnt)
            for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
                for args in [["clean", "-q", "b.jsonl", "-o", "o.jsonl", "--report", "small/r.json", "--json"], ["clean", "-q", "b.jsonl", "-o", "small/o.jsonl"], ["scan", "-q", "b.jsonl", "--html", "small/r.html"]]:
                    code, _, err = nd(args + limit + ["--index", "x.ndx", "--update"], d)
                    same = sha(os.path.join(d, "x.ndx")) == before
                    row(f"s28-late: {args[-1] if args[-1] != '--json' else args[-2]} on a full disk, --update {' '.join(limit[:2])}", f"neardup {' '.join(args)} --index x.ndx --update", "exit 2; index unchanged; no output",
                        f"exit {code}; index {'unchanged' if same else 'CHANGED'}; o.jsonl {os.path.exists(os.path.join(d, 'o.jsonl'))}; {short(err, 50)}", code == 2 and same and not os.path.exists(os.path.join(d, "o.jsonl")))


def case_s28_kill():
    """Session 28: kill -9 at 30-95% of an update and of `index merge -o`
    one of its inputs (indexes of 100,000 six-word records): the index is
    the old one or the complete new one, and the next update removes the
    dead run's temporary file."""
    with tempfile.TemporaryDirectory() as d:
        for name, seed in [("a.jsonl", 1), ("b.jsonl", 2)]:
            write(os.path.join(d, name), "".join(json.dumps({"id": f"{seed}-{i}", "text": words(6, seed=seed * 1000003 + i)}) + "\n" for i in range(100000)))
        nd(["index", "build", "-q", "b.jsonl", "-o", "y.ndx"], d)
        for cmd in [["scan", "-q", "--index", "x.ndx", "--update", "b.jsonl"], ["index", "merge", "x.ndx", "y.ndx", "-o", "x.ndx"]]:
            nd(["index", "build", "-q", "a.jsonl", "-o", "x.ndx"], d)
            shutil.copy(os.path.join(d, "x.ndx"), os.path.join(d, "x.bak"))
            t = time.time()
            nd(cmd, d)
            full = time.time() - t
            for frac in [0.3, 0.6, 0.8, 0.9, 0.95]:
                shutil.copy(os.path.join(d, "x.bak"), os.path.join(d, "x.ndx"))
                p = subprocess.Popen([B] + cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                terminated_after(p, full * frac, signal.SIGKILL)
                old = sha(os.path.join(d, "x.ndx")) == sha(os.path.join(d, "x.bak"))
                verify, _, _ = nd(["index", "stats", "--verify", "x.ndx"], d)
                left = len(temps(d))
                code, _, err = nd(["scan", "-q", "--index", "x.ndx", "--update", "a.jsonl"], d)
                row(f"s28-kill: kill -9 at {frac:.0%} of {' '.join(cmd[:2])}", f"neardup {' '.join(cmd)}; kill -9; neardup scan --index x.ndx --update a.jsonl",
                    "the old or the whole new index; the next run removes the temp", f"index {'old' if old else 'new'}, verify {verify}; temps {left} -> {len(temps(d))}; next exit {code}",
                    verify == 0 and not temps(d) and code in (0, 1) and not crashed(code, err))


def case_s28_memory():
    """Session 28 (--heavy): peak RSS of index runs over short records
    (300,000 six-word records; floods of 200,000 identical records and of
    200,000 a word apart) at --memory-limit 64M and 256M: index build,
    clean --update, check --index, and index merge (which takes no limit).
    Within the limit + 64 MiB, or exit 2; merge figures are reported."""
    import random

    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(14)
        vocab = ["river", "stone", "market", "council", "budget", "winter", "engine", "garden", "letter", "window", "doctor", "planet"]
        same = "the very same record repeated over"
        inputs = {"six": [" ".join(rng.choice(vocab) + str(rng.randrange(500)) for _ in range(6)) for _ in range(300000)],
                  "six2": [" ".join(rng.choice(vocab) + str(rng.randrange(500)) for _ in range(6)) for _ in range(300000)],
                  "same": [same] * 200000, "near": [f"{same} w{i}" for i in range(200000)]}
        for name, texts in inputs.items():
            write(os.path.join(d, f"{name}.jsonl"), "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
        for limit in ["64M", "256M"]:
            mib_limit = int(limit[:-1])
            for a, b in [("six", "six2"), ("same", "near")]:
                lim = ["--memory-limit", limit, "--tmp-dir", d]
                runs = [["index", "build", "-q", *lim, f"{a}.jsonl", "-o", f"{a}.ndx"], ["index", "build", "-q", *lim, f"{b}.jsonl", "-o", f"{b}.ndx"],
                        ["clean", "-q", *lim, "--index", f"{a}.ndx", "--update", f"{b}.jsonl", "-o", "out.jsonl"], ["check", "-q", *lim, "--index", f"{b}.ndx", f"{a}.jsonl"],
                        ["index", "merge", f"{b}.ndx", f"{a}.ndx", "-o", "m.ndx"]]
                for args in runs:
                    t = time.time()
                    code, mib, err = peak_rss(args, d)
                    merge = args[1] == "merge"
                    ok = not crashed(code, err) and (merge or code == 2 or mib <= mib_limit + 64)
                    row(f"s28-memory: {' '.join(args[:2])} {a}/{b} at {limit}" + (" (merge takes no limit: reported)" if merge else ""), "neardup " + " ".join(args),
                        "within the limit + 64 MiB, or exit 2", f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}", ok)


def case_s29_keys():
    """Session 29: documents with many more keys than the default 128
    (--num-perm 4096 --bands 4096 --rows 1: 4,104 keys) in a run in chunks:
    chunks were cut for 128 keys a document. Within the limit + 64 MiB."""
    with tempfile.TemporaryDirectory() as d:
        write_records(os.path.join(d, "r.jsonl"), 2000, 30)
        for limit, args in [("16M", ["scan", "-q", "--level", "docs"]), ("16M", ["index", "build", "-q", "--level", "docs", "-o", "k.ndx"]), ("64M", ["scan", "-q"])]:
            full = [*args, "--num-perm", "4096", "--bands", "4096", "--rows", "1", "--memory-limit", limit, "--tmp-dir", d, "r.jsonl"]
            t = time.time()
            code, mib, err = peak_rss(full, d)
            row(f"s29-keys: {' '.join(args[:2])} with 4,104 keys a document at {limit}", "neardup " + " ".join(full), "within the limit + 64 MiB, or exit 2",
                f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}", not crashed(code, err) and (code == 2 or mib <= int(limit[:-1]) + 64))


def case_s29_bidi():
    """Session 29: bidirectional controls (U+202E right-to-left override,
    U+2066-2069 isolates) in a file name and in ids, in every human-readable
    output: shown escaped, never raw."""
    with tempfile.TemporaryDirectory() as d:
        name = "in\u202elnosj.jsonl"
        with open(os.path.join(d, name), "w") as f:
            for i in ["doc\u202efdp.exe", "b\u2066x\u2069", "c\u200f\u061c"]:
                f.write(json.dumps({"id": i, "text": words(40, seed=1)}) + "\n")
        for args in [["scan"], ["scan", "-v"], ["check", "--output-format", "github"], ["check"], ["clean", "-v", "-o", "o.jsonl", "--report", "-"], ["index", "build", "-v", "-o", "i.ndx"]]:
            code, out, err = nd(args + [name], d)
            text = out.decode("utf-8", "replace") + err
            raw = [hex(ord(c)) for c in "\u202e\u2066\u2069\u200f\u061c" if c in text]
            row(f"s29-bidi: {' '.join(args[:2])}", f"neardup {' '.join(args)} in<U+202E>lnosj.jsonl (ids with U+202E, U+2066, U+200F)", "no raw bidirectional control",
                f"exit {code}; raw {raw}", not crashed(code, err) and not raw)


def case_s29_lines():
    """Session 29: one text file of hundreds of thousands of short lines
    (each a block) at --memory-limit 64M: a document's blocks and its
    report entry (400,000 short repeats) are held whole. Within the
    limit + 64 MiB, or exit 2. (Left failing: see RESULTS session 29.)"""
    import random

    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(1)
        write(os.path.join(d, "distinct.txt"), "".join(f"w{rng.randrange(1000000)}\n" for _ in range(600000)))
        write(os.path.join(d, "short.txt"), "a b c\n" * 400000)
        for name in ["distinct.txt", "short.txt"]:
            for args in [["scan", "-q"], ["clean", "-q", "-o", "o.txt"]]:
                full = [*args, "--memory-limit", "64M", "--tmp-dir", d, name]
                code, mib, err = peak_rss(full, d)
                row(f"s29-lines: {name} ({os.path.getsize(os.path.join(d, name)) >> 20} MiB), {args[0]} at 64M", "neardup " + " ".join(full), "within the limit + 64 MiB, or exit 2",
                    f"exit {code}; peak {mib} MiB; {short(err, 50)}", not crashed(code, err) and (code == 2 or mib <= 128))


def case_s29_out_dir():
    """Session 29: --out-dir targets that are inputs by other routes: two
    inputs mapped to one target, a target that is a symbolic link or a hard
    link to an input, an out-dir that is a link to the input's directory."""
    with tempfile.TemporaryDirectory() as d:
        for sub in ["d1", "d2"]:
            os.mkdir(os.path.join(d, sub))
        write(os.path.join(d, "d1", "x.txt"), TEXT)
        write(os.path.join(d, "d2", "x.txt"), words(200, seed=9) + "\n")
        write(os.path.join(d, "x.txt"), words(200, seed=10) + "\n")
        inputs = ["x.txt", "d1/x.txt", "d2/x.txt"]
        refused("s29-out-dir: two directories with one relative name", ["clean", "-q", "d1", "d2", "--out-dir", "o1"], d, inputs)
        refused("s29-out-dir: a file and a directory holding its name", ["clean", "-q", "x.txt", "d1", "--out-dir", "o2"], d, inputs)
        os.mkdir(os.path.join(d, "o3"))
        os.symlink("../x.txt", os.path.join(d, "o3", "x.txt"))
        refused("s29-out-dir: the target a symbolic link to the input", ["clean", "-q", "x.txt", "--out-dir", "o3"], d, inputs)
        os.mkdir(os.path.join(d, "o4"))
        os.link(os.path.join(d, "x.txt"), os.path.join(d, "o4", "x.txt"))
        refused("s29-out-dir: the target a hard link to the input", ["clean", "-q", "x.txt", "--out-dir", "o4"], d, inputs)
        os.symlink("d1", os.path.join(d, "o5"))
        refused("s29-out-dir: --out-dir a link to the input's directory", ["clean", "-q", "d1", "--out-dir", "o5"], d, inputs)


def case_s29_compressed():
    """Session 29: compressed inputs in several frames or members: zstd
    frames with skippable frames before, between and after them (as pzstd
    writes), gzip of two members, `.json.gz` holding JSON Lines; as files
    and on standard input, whole and at --memory-limit 64K: the same
    cleaned bytes as the plain file."""
    import struct

    with tempfile.TemporaryDirectory() as d:
        plain = records(400).encode()
        write(os.path.join(d, "r.jsonl"), plain)
        whole = nd(["clean", "-q", "r.jsonl"], d)[1]
        cut = plain.rfind(b"\n", 0, len(plain) // 2) + 1
        z = [subprocess.run(["zstd", "-q", "-c"], input=p, capture_output=True).stdout for p in (plain[:cut], plain[cut:])]
        g = [subprocess.run(["gzip", "-c"], input=p, capture_output=True).stdout for p in (plain[:cut], plain[cut:])]
        skip = struct.pack("<II", 0x184D2A50, 4) + b"\0\0\0\0"
        made = {"skip.jsonl.zst": skip + z[0] + skip + z[1] + skip, "two.jsonl.zst": z[0] + z[1], "two.jsonl.gz": g[0] + g[1], "r.json.gz": g[0] + g[1]}
        for name, data in made.items():
            write(os.path.join(d, name), data)
            for limit in [[], ["--memory-limit", "64K", "--tmp-dir", d]]:
                for how in ["file", "stdin"]:
                    if how == "file":
                        code, out, err = nd(["clean", "-q", *limit, name], d)
                    else:
                        code, out, err = nd(["clean", "-q", *limit, "-"], d, stdin=data)
                    row(f"s29-compressed: {name} ({how}) {' '.join(limit[:2])}", f"neardup clean {' '.join(limit[:2])} {name if how == 'file' else '- < ' + name}", "the plain file's cleaned bytes",
                        f"exit {code}; {'same' if out == whole else 'DIFFERENT'}; {short(err, 50)}", code == 0 and out == whole)


def case_s29_truncated():
    """Session 29: Parquet, gzip and zstd inputs cut to 5,000 bytes while a
    run reads them (whole, in chunks, and clean -o): exit 0 or 2 naming the
    file, never a crash or SIGBUS."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        write_records(os.path.join(d, "src.jsonl"), 60000, 120)
        rows = [json.loads(line) for line in open(os.path.join(d, "src.jsonl"))]
        pq.write_table(pa.table({"id": [str(r["id"]) for r in rows], "text": [r["text"] for r in rows]}), os.path.join(d, "src.parquet"), row_group_size=2000)
        subprocess.run("gzip -1 -c src.jsonl > src.jsonl.gz; zstd -q -1 -c src.jsonl > src.jsonl.zst", shell=True, cwd=d)
        for name in ["src.parquet", "src.jsonl.gz", "src.jsonl.zst"]:
            ext = name[3:]
            for args in [["scan", "-q"], ["scan", "-q", "--memory-limit", "16M", "--tmp-dir", d], ["clean", "-q", "-o", "o" + ext]]:
                shutil.copy(os.path.join(d, name), os.path.join(d, "t" + ext))
                p = subprocess.Popen([B] + args + ["t" + ext], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(0.3)
                os.truncate(os.path.join(d, "t" + ext), 5000)
                err = p.stderr.read().decode()
                code = p.wait()
                row(f"s29-truncated: {name} cut while read, {' '.join(args[:4])}", f"neardup {' '.join(args[:4])} t{ext}; truncate -s 5000 t{ext}", "exit 0, or 2 naming the file",
                    f"exit {code}; {short(err, 70)}", code == 0 or (code == 2 and "t" + ext in err))


def case_s29_signals():
    """Session 29: the rarer signals the README lists (SIGQUIT, SIGUSR1,
    SIGALRM, SIGXCPU) and SIGTERM, during runs writing Parquet, an HTML page,
    a step summary with --update, compressed outputs, and a run in chunks
    spooling standard input: exit 128 + the signal (or 0 if it finished
    first), no temporary file, nothing changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "sp"))
        write_records(os.path.join(d, "big.jsonl"), 20000, 120)
        rows = [json.loads(line) for line in open(os.path.join(d, "big.jsonl"))]
        pq.write_table(pa.table({"id": [str(r["id"]) for r in rows], "text": [r["text"] for r in rows]}), os.path.join(d, "big.parquet"))
        nd(["index", "build", "-q", "big.jsonl", "-o", "i.ndx"], d)
        outs = ["o.parquet", "o.html", "o.md", "o.jsonl", "o.json", "o.jsonl.zst", "o.json.gz"]
        cmds = [["clean", "-q", "big.parquet", "-o", "o.parquet"], ["scan", "-q", "big.jsonl", "--html", "o.html"],
                ["check", "-q", "big.jsonl", "--step-summary", "o.md", "--index", "i.ndx", "--update"],
                ["clean", "-q", "--memory-limit", "4M", "--tmp-dir", "sp", "-", "-o", "o.jsonl", "--report", "o.json", "--json"],
                ["clean", "-q", "big.jsonl", "-o", "o.jsonl.zst", "--report", "o.json.gz", "--json"]]
        for args in cmds:
            for sig in [signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM]:
                for n in outs:
                    write(os.path.join(d, n), "old\n")
                before = sha(os.path.join(d, "i.ndx"))
                stdin = open(os.path.join(d, "big.jsonl"), "rb") if "-" in args else subprocess.DEVNULL
                p = subprocess.Popen([B] + args, cwd=d, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                terminated_after(p, 0.5, sig, 120)
                left = temps(d) + os.listdir(os.path.join(d, "sp"))
                changed = [n for n in outs if open(os.path.join(d, n), "rb").read() != b"old\n"]
                killed = p.returncode == 128 + sig
                ok = (killed or p.returncode in (0, 1)) and not left and (not killed or (not changed and sha(os.path.join(d, "i.ndx")) == before))
                row(f"s29-signals: {signal.Signals(sig).name} at 0.5s, {' '.join(args[:2])} {args[-1]}", "neardup " + " ".join(args), "exit 128 + signal (or done); no temp; nothing changed",
                    f"exit {p.returncode}; left {len(left)}; changed {changed}", ok)
                if sha(os.path.join(d, "i.ndx")) != before:
                    nd(["index", "build", "-q", "big.jsonl", "-o", "i.ndx"], d)


def case_s29_merge_memory():
    """Session 29 (issue 14): `index merge` takes --memory-limit. Two indexes
    of 300,000 six-word records each (as s28-memory makes them), merged at
    --memory-limit 64M and 256M (--tmp-dir the case's directory): peak RSS
    within the limit + 64 MiB, and the merged index the unlimited merge's
    byte for byte (but for its time of update); at 64K, exit 2 naming what
    did not fit, the output (a copy of A) and both inputs unchanged."""
    import random
    import struct

    def but_time(path):
        data = open(path, "rb").read()
        table_at, table_len = struct.unpack_from("<QQ", data, 24)
        table = json.loads(data[table_at:table_at + table_len])
        table.pop("updated", None)
        return data[:56] + data[64:table_at], table

    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(14)
        vocab = ["river", "stone", "market", "council", "budget", "winter", "engine", "garden", "letter", "window", "doctor", "planet"]
        for name in ["six", "six2"]:
            with open(os.path.join(d, f"{name}.jsonl"), "w") as f:
                for i in range(300000):
                    f.write(json.dumps({"id": f"d{i}", "text": " ".join(rng.choice(vocab) + str(rng.randrange(500)) for _ in range(6))}) + "\n")
            nd(["index", "build", "-q", f"{name}.jsonl", "-o", f"{name}.ndx"], d, timeout=600)
        t = time.time()
        code, mib, err = peak_rss(["index", "merge", "six.ndx", "six2.ndx", "-o", "whole.ndx"], d)
        row("s29-merge: six/six2 without --memory-limit", "neardup index merge six.ndx six2.ndx -o whole.ndx", "exit 0; well below the 1,431 MiB of session 28",
            f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}", code == 0 and mib < 700)
        for limit in ["64M", "256M"]:
            t = time.time()
            args = ["index", "merge", "--memory-limit", limit, "--tmp-dir", d, "six.ndx", "six2.ndx", "-o", "m.ndx"]
            code, mib, err = peak_rss(args, d)
            same = code == 0 and but_time(os.path.join(d, "m.ndx")) == but_time(os.path.join(d, "whole.ndx"))
            row(f"s29-merge: six/six2 at --memory-limit {limit}", "neardup " + " ".join(args), "exit 0; within the limit + 64 MiB; the unlimited merge's bytes",
                f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {'same bytes' if same else 'DIFFERENT'}; {short(err, 50)}",
                code == 0 and mib <= int(limit[:-1]) + 64 and same)
        shutil.copy(os.path.join(d, "six.ndx"), os.path.join(d, "out.ndx"))
        args = ["index", "merge", "--memory-limit", "64K", "--tmp-dir", d, "six.ndx", "six2.ndx", "-o", "out.ndx"]
        refused("s29-merge: six/six2 at --memory-limit 64K", args, d, ["six.ndx", "six2.ndx", "out.ndx"])
        code, _, err = nd(args, d)
        row("s29-merge: the message at 64K", "neardup " + " ".join(args), "names B, too large, the limit and one to raise it to",
            f"exit {code}; {short(err, 150)}", code == 2 and "six2.ndx: too large" in err and "--memory-limit 64K" in err and "raise --memory-limit to" in err)


def case_s30_merge():
    """Session 30 (issue 14): `index merge` of an index with one that already
    holds its documents ((a + empty) + a, a + (a + b), (a + b) + b) is
    refused by name, nothing written; a copy of a's file under another name
    is merged (other documents)."""
    with set_up() as d:
        open(os.path.join(d, "empty.jsonl"), "w").close()
        shutil.copy(os.path.join(d, "r.jsonl"), os.path.join(d, "r2.jsonl"))
        for src, out in [("r.jsonl", "a.ndx"), ("empty.jsonl", "e.ndx"), ("a.txt", "b.ndx"), ("r2.jsonl", "a2.ndx")]:
            nd(["index", "build", "-q", src, "-o", out], d)
        nd(["index", "merge", "a.ndx", "e.ndx", "-o", "ae.ndx"], d)
        nd(["index", "merge", "a.ndx", "b.ndx", "-o", "ab.ndx"], d)
        for a, b in [("ae.ndx", "a.ndx"), ("a.ndx", "ae.ndx"), ("ab.ndx", "b.ndx"), ("b.ndx", "ab.ndx"), ("ab.ndx", "a.ndx")]:
            refused(f"s30-merge: {a} + {b}", ["index", "merge", a, b, "-o", "m.ndx"], d, ["a.ndx", "ab.ndx", "ae.ndx", "m.ndx"])
        code, _, err = nd(["index", "merge", "a.ndx", "a2.ndx", "-o", "aa2.ndx"], d)
        docs = index_docs(d, "aa2.ndx") if code == 0 else None
        row("s30-merge: a + (a's file copied under another name)", "neardup index merge a.ndx a2.ndx -o aa2.ndx", "exit 0, 80 documents",
            f"exit {code}; {docs} documents; {short(err, 60)}", code == 0 and docs == 80)


def case_s30_empty_index():
    """Session 30: an empty file (what mktemp makes) as --index --update,
    index build -o and index merge -o: each starts an index there; a file
    holding anything else is written over by none."""
    with set_up() as d:
        nd(["index", "build", "-q", "r.jsonl", "-o", "a.ndx"], d)
        for name, args in [("u.ndx", ["clean", "-q", "--index", "u.ndx", "--update", "r.jsonl", "-o", "o.jsonl"]),
                           ("b.ndx", ["index", "build", "-q", "a.txt", "-o", "b.ndx"]),
                           ("m.ndx", ["index", "merge", "a.ndx", "b.ndx", "-o", "m.ndx"])]:
            open(os.path.join(d, name), "w").close()
            code, _, err = nd(args, d)
            docs = index_docs(d, name)
            row(f"s30-empty-index: {name} empty", "neardup " + " ".join(args), "exit 0, an index there",
                f"exit {code}; {docs} documents; {short(err, 60)}", code == 0 and docs in (1, 40, 41))
        for args in [["clean", "-q", "--index", "x.ndx", "--update", "r.jsonl", "-o", "o2.jsonl"], ["index", "build", "-q", "a.txt", "-o", "x.ndx"],
                     ["index", "merge", "a.ndx", "b.ndx", "-o", "x.ndx"]]:
            write(os.path.join(d, "x.ndx"), "old\n")
            refused("s30-empty-index: x.ndx holds a user's text", args, d, ["x.ndx"])


def case_s30_hamming():
    """Session 30: --hamming above 10 is refused by name (20 made every pair
    a candidate); 10 runs."""
    with set_up() as d:
        for k in ["11", "20"]:
            refused(f"s30-hamming: --hamming {k}", ["scan", "--method", "simhash", "--hamming", k, "r.jsonl"], d, ["r.jsonl"])
        code, _, err = nd(["scan", "-q", "--method", "simhash", "--hamming", "10", "r.jsonl"], d)
        row("s30-hamming: --hamming 10", "neardup scan -q --method simhash --hamming 10 r.jsonl", "exit 0", f"exit {code}; {short(err, 60)}", code == 0)


def case_s30_paths():
    """Session 30: outputs named like inputs through `..`, a hard link, a
    symbolic link, a trailing `/.` of the directory: refused, nothing
    changed."""
    with set_up() as d:
        os.link(os.path.join(d, "r.jsonl"), os.path.join(d, "hard.jsonl"))
        os.symlink("r.jsonl", os.path.join(d, "soft.jsonl"))
        nd(["index", "build", "-q", "a.txt", "-o", "x.ndx"], d)
        keep = ["r.jsonl", "x.ndx", "a.txt"]
        for args in [["clean", "sub/../r.jsonl", "-o", "r.jsonl"], ["clean", "r.jsonl", "-o", "./sub/../r.jsonl"],
                     ["clean", "r.jsonl", "-o", "o.jsonl", "--report", "sub/../r.jsonl"], ["clean", "r.jsonl", "-o", "hard.jsonl"],
                     ["clean", "soft.jsonl", "-o", "r.jsonl"], ["index", "build", "r.jsonl", "-o", "sub/../r.jsonl"],
                     ["clean", "--index", "sub/../r.jsonl", "--update", "a.txt", "-o", "o.txt"],
                     ["clean", "--index", "x.ndx", "--update", "r.jsonl", "-o", "sub/../x.ndx"],
                     ["scan", "r.jsonl", "--html", "hard.jsonl"], ["clean", "r.jsonl", "--out-dir", "sub/.."]]:
            refused("s30-paths: " + " ".join(args[1:]), args, d, keep)


def case_s30_parquet_out():
    """Session 30: a Parquet input whose other column is corrupt (read only
    to write kept rows back): `clean -o out.parquet` names the input alone
    (it said `out.parquet: in.parquet: ...`), no output."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "in.parquet")
        pq.write_table(pa.table({"text": [f"row {i} has a few words of its own, {i * 7}" for i in range(400)],
                                 "blob": [f"blob {i} " + "q r s t u v " * (50 + i % 7) for i in range(400)]}),
                       path, compression="snappy", use_dictionary=False)
        meta = pq.ParquetFile(path).metadata.row_group(0).column(1)
        start = meta.data_page_offset
        data = bytearray(open(path, "rb").read())
        mid = start + meta.total_compressed_size // 2
        for i in range(mid, mid + 256):
            data[i] ^= 0x5A
        open(path, "wb").write(bytes(data))
        for limit in [[], ["--memory-limit", "16M", "--tmp-dir", "."]]:
            code, _, err = nd(["clean", "-q", "in.parquet", "-o", "out.parquet", *limit], d)
            row(f"s30-parquet-out: other column corrupt, clean -o out.parquet {' '.join(limit[:2])}", "neardup clean -q in.parquet -o out.parquet",
                "exit 2 naming in.parquet alone, no out.parquet", f"exit {code}; {short(err, 80)}",
                code == 2 and err.startswith("neardup: in.parquet: ") and "out.parquet" not in err and not os.path.exists(os.path.join(d, "out.parquet")))


def case_s30_banded_memory():
    """Session 30: two indexes of 150,000 six-word records in groups of 10
    sharing five words, the same groups in both: merged (and one updated
    with the other's records), 20 records hold each shared shingle, so all
    get their 128 band records back in the write, which held them whole
    (1,334 MiB for 300,000 + 300,000 at --memory-limit 64M). Within the
    limit + 64 MiB now."""
    import random

    with tempfile.TemporaryDirectory() as d:
        rng0 = random.Random(0)
        vocab = [f"w{i}" for i in range(5000)]
        prefixes = [" ".join(rng0.choice(vocab) for _ in range(5)) for _ in range(15000)]
        for name, seed in [("fa", 1), ("fb", 2)]:
            rng = random.Random(seed)
            with open(os.path.join(d, f"{name}.jsonl"), "w") as f:
                for i in range(150000):
                    f.write(json.dumps({"id": f"{seed}-{i}", "text": prefixes[i % 15000] + " " + rng.choice(vocab) + str(seed)}) + "\n")
            nd(["index", "build", "-q", "--memory-limit", "256M", "--tmp-dir", d, f"{name}.jsonl", "-o", f"{name}.ndx"], d, timeout=600)
        for args in [["index", "merge", "--memory-limit", "64M", "--tmp-dir", d, "fa.ndx", "fb.ndx", "-o", "m.ndx"],
                     ["clean", "-q", "--index", "fa.ndx", "--update", "--memory-limit", "64M", "--tmp-dir", d, "fb.jsonl", "-o", "o.jsonl"]]:
            t = time.time()
            code, mib, err = peak_rss(args, d)
            row(f"s30-banded-memory: {args[0]} {args[1]} at 64M", "neardup " + " ".join(args), "exit 0; within the limit + 64 MiB",
                f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}", code == 0 and mib <= 128)



def short_line_files(d):
    """Session 31: texts of many short lines whose line ends are not `\\n`
    bytes: 600,000 distinct lines ended by `\\r` (`cr.txt`) and the same
    lines held in one JSON Lines record (`one.jsonl`, its breaks escaped),
    beside the plain `distinct.txt`."""
    import random

    rng = random.Random(31)
    text = "".join(f"w{rng.randrange(1000000)}\n" for _ in range(600000))
    write(os.path.join(d, "distinct.txt"), text)
    with open(os.path.join(d, "cr.txt"), "w", newline="") as f:
        f.write(text.replace("\n", "\r"))
    write(os.path.join(d, "one.jsonl"), json.dumps({"id": "many", "text": text}) + "\n" + json.dumps({"id": "small", "text": "a few words of another record"}) + "\n")


def case_s31_lines_html():
    """Session 31: a run with an HTML page, or writing a FIFO in place, is
    never made again in chunks, so it is read whole when its inputs are
    counted to fit, and nothing watches its memory then. Lines were counted
    by their `\\n` bytes: a text of 600,000 lines ended by `\\r`, or held in
    one record, counted as one line and took 207 MiB at --memory-limit 64M.
    Within the limit + 64 MiB, or exit 2 naming the file."""
    with tempfile.TemporaryDirectory() as d:
        short_line_files(d)
        os.mkfifo(os.path.join(d, "fifo"))
        for name in ["cr.txt", "one.jsonl", "distinct.txt"]:
            for args in [["scan", "-q", "--html", "p.html"], ["check", "-q", "--html", "p.html"], ["clean", "-q", "-o", "fifo"]]:
                full = [*args, "--memory-limit", "64M", "--tmp-dir", d, name]
                drain = None
                if "fifo" in args:
                    drain = subprocess.Popen(["cat", os.path.join(d, "fifo")], stdout=subprocess.DEVNULL)
                t = time.time()
                code, mib, err = peak_rss(full, d)
                if drain is not None:
                    if code == 2 and drain.poll() is None:
                        # Refused before it opened the FIFO: the reader is let go.
                        with open(os.path.join(d, "fifo"), "w"):
                            pass
                    drain.wait(30)
                row(f"s31-lines-html: {name}, {' '.join(args[:4])} at 64M", "neardup " + " ".join(full), "within the limit + 64 MiB, or exit 2 naming the file",
                    f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 60)}",
                    not crashed(code, err) and (mib <= 128 if code != 2 else name.split(".")[0] in err))


def case_s31_lines():
    """Session 31: the figures that moved in session 30 (documents of many
    short lines counted by their blocks) at 256M and 1G, text and JSON, with
    scan, clean, index build and an HTML page: within the limit + 64 MiB,
    or exit 2 naming the file. (The report entries of 800,000 repeated
    lines at 512M are left to their own fix.)"""
    with tempfile.TemporaryDirectory() as d:
        short_line_files(d)
        write(os.path.join(d, "abc.txt"), "a b c\n" * 400000)
        for name in ["distinct.txt", "cr.txt", "one.jsonl", "abc.txt"]:
            for limit in ["256M", "1G"]:
                for args in [["scan", "-q", "--json"], ["clean", "-q", "-o", "o.out"], ["index", "build", "-q", "-o", "o.ndx"], ["scan", "-q", "--html", "p.html"]]:
                    full = [*args, "--memory-limit", limit, "--tmp-dir", d, name]
                    allowed = (1024 if limit == "1G" else int(limit[:-1])) + 64
                    t = time.time()
                    code, mib, err = peak_rss(full, d)
                    row(f"s31-lines: {name}, {' '.join(args[:3])} at {limit}", "neardup " + " ".join(full), "within the limit + 64 MiB, or exit 2 naming the file",
                        f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}",
                        not crashed(code, err) and (mib <= allowed if code != 2 else name.split(".")[0] in err))
                    remove(d, "o.out", "o.ndx", "p.html")


def case_s31_writes():
    """Session 31: what a run reads or writes by another name. Standard
    input named `/dev/stdin` or `/proc/self/fd/0` with -o (or --report,
    index build -o) its file: refused. A report, page or step summary to a
    full device (mknod 1,7, as root) with --update: exit 2, no output, the
    index as it was. Compressed and Parquet outputs to a FIFO: whole
    streams, the FIFO still a FIFO."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with set_up() as d:
        shutil.copy(os.path.join(d, "r.jsonl"), os.path.join(d, "s.jsonl"))
        for args in [["clean", "-q", "-", "-o", "/proc/self/fd/0"], ["clean", "-q", "/proc/self/fd/0", "-o", "s.jsonl"], ["clean", "-q", "/dev/stdin", "-o", "s.jsonl"],
                     ["clean", "-q", "-", "-o", "o.jsonl", "--report", "/dev/stdin"], ["index", "build", "-q", "-", "-o", "/dev/stdin"], ["scan", "-q", "/dev/stdin", "--html", "s.jsonl"]]:
            before = sha(os.path.join(d, "s.jsonl"))
            with open(os.path.join(d, "s.jsonl"), "rb") as stdin:
                p = subprocess.run([B] + args, cwd=d, stdin=stdin, capture_output=True, timeout=60)
            err = p.stderr.decode("utf-8", "replace")
            same = sha(os.path.join(d, "s.jsonl")) == before
            row(f"s31-writes: {' '.join(args[:2])} {' '.join(args[2:])} < s.jsonl", f"neardup {' '.join(args)} < s.jsonl", "exit 2, s.jsonl as it was",
                f"exit {p.returncode}; {'unchanged' if same else 'CHANGED'}; {short(err, 70)}", p.returncode == 2 and same and not crashed(p.returncode, err))
        if os.geteuid() == 0:
            full = os.path.join(d, "full")
            os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            for args in [["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--report", "full"], ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--html", "full"],
                         ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--report", "full", "--json"], ["check", "-q", "r.jsonl", "--step-summary", "full"]]:
                nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
                before = sha(os.path.join(d, "u.ndx"))
                code, _, err = nd([*args, "--index", "u.ndx", "--update"], d)
                ok = code == 2 and sha(os.path.join(d, "u.ndx")) == before and not os.path.exists(os.path.join(d, "o.jsonl")) and stat.S_ISCHR(os.lstat(full).st_mode)
                row(f"s31-writes: {args[0]} {' '.join(a for a in args[3:] if a not in ('-o', 'o.jsonl'))} a full device, --update", "neardup " + " ".join(args) + " --index u.ndx --update", "exit 2; index and output as they were",
                    f"exit {code}; index {'unchanged' if sha(os.path.join(d, 'u.ndx')) == before else 'CHANGED'}; o.jsonl {os.path.exists(os.path.join(d, 'o.jsonl'))}; {short(err, 50)}", ok)
        rows = [json.loads(line) for line in open(os.path.join(d, "r.jsonl"))]
        pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), os.path.join(d, "r.parquet"))
        for target, src in [("f.parquet", "r.parquet"), ("f.jsonl.gz", "r.jsonl"), ("f.jsonl.zst", "r.jsonl")]:
            want = nd(["clean", "-q", src, "-o", "want." + target], d)[0]
            os.mkfifo(os.path.join(d, target))
            got = {}

            def drain(path=os.path.join(d, target)):
                with open(path, "rb") as f:
                    got["bytes"] = f.read()

            t = threading.Thread(target=drain)
            t.start()
            code, _, err = nd(["clean", "-q", src, "-o", target], d, timeout=60)
            t.join(10)
            write(os.path.join(d, "got." + target), got.get("bytes", b""))
            if target.endswith(".parquet"):
                same = pq.read_table(os.path.join(d, "got." + target)).equals(pq.read_table(os.path.join(d, "want." + target)))
            else:
                tool = ["gzip", "-dc"] if target.endswith(".gz") else ["zstd", "-qdc"]
                same = all(subprocess.run(tool + [os.path.join(d, n + target)], capture_output=True).stdout == subprocess.run(tool + [os.path.join(d, "want." + target)], capture_output=True).stdout for n in ["got."])
            row(f"s31-writes: -o {target}, a FIFO", f"neardup clean {src} -o {target} (a FIFO)", "exit 0; the stream a file gets; still a FIFO",
                f"exit {code} (-o file {want}); {'same' if same else 'DIFFERENT'}; FIFO {stat.S_ISFIFO(os.lstat(os.path.join(d, target)).st_mode)}",
                code == 0 and same and stat.S_ISFIFO(os.lstat(os.path.join(d, target)).st_mode))


def case_s31_flags():
    """Session 31: --threads 10000 and 2^32 for every subcommand that takes
    it (one took 278 s on a 7 KB file), --min-words 0 with punctuation-only
    paragraphs in each subcommand and in chunks, a zstd skippable frame that
    says it holds 4 GiB on standard input and as a file: no panic, no hang."""
    with set_up() as d:
        for n in ["10000", "4294967296"]:
            for args in [["index", "build", "-q", "r.jsonl", "-o", "t.ndx"], ["clean", "-q", "r.jsonl", "--out-dir", "od"], ["check", "-q", "r.jsonl"],
                         ["scan", "-q", "--memory-limit", "16M", "--tmp-dir", ".", "r.jsonl"], ["clean", "-q", "r.jsonl", "--index", "u.ndx", "--update", "-o", "o.jsonl"]]:
                t = time.time()
                code, _, err = nd([*args, "--threads", n], d, timeout=120)
                row(f"s31-flags: --threads {n}, {' '.join(args[:2])}", f"neardup {' '.join(args)} --threads {n}", "quick; exit 0/1",
                    f"exit {code}; {time.time() - t:.2f}s; {short(err, 50)}", code in (0, 1) and time.time() - t < 30)
        with open(os.path.join(d, "p.jsonl"), "w") as f:
            for i in range(2):
                f.write(json.dumps({"id": i, "text": "!!! ???\n\n... ,,,\n\n" + words(20, seed=1)}) + "\n")
        write(os.path.join(d, "p.txt"), "!!! ???\n\n... ,,,\n\n!!! ???\n")
        for args in [["scan", "-q"], ["check", "-q"], ["clean", "-q", "-o", "o.out"], ["index", "build", "-q", "-o", "m.ndx"], ["scan", "-q", "--memory-limit", "16M", "--tmp-dir", "."],
                     ["clean", "-q", "--drop-short", "-o", "o.out"], ["scan", "-q", "--level", "blocks", "--blocks", "lines"]]:
            for name in ["p.jsonl", "p.txt"]:
                code, _, err = nd([*args, "--min-words", "0", name], d)
                row(f"s31-flags: --min-words 0, punctuation only, {' '.join(a for a in args if a not in ('-q', '--tmp-dir', '.', '-o', 'o.out', 'm.ndx'))} {name}", f"neardup {' '.join(args)} --min-words 0 {name}", "no panic; exit 0/1",
                    f"exit {code}; {short(err, 60)}", code in (0, 1) and not crashed(code, err))
        frame = b"\x50\x2a\x4d\x18\xff\xff\xff\xff" + open(os.path.join(d, "r.jsonl"), "rb").read()[:100]
        write(os.path.join(d, "skip.jsonl.zst"), frame)
        for args, stdin in [(["scan", "-q", "-"], frame), (["scan", "-q", "--memory-limit", "16M", "--tmp-dir", ".", "-"], frame), (["scan", "-q", "skip.jsonl.zst"], None)]:
            code, _, err = nd(args, d, stdin=stdin, timeout=60)
            row(f"s31-flags: a skippable frame saying 4 GiB, {' '.join(args[2:])}", f"neardup {' '.join(args)}", "exit 2 naming the input (cut short)",
                f"exit {code}; {short(err, 70)}", code == 2 and ("<stdin>" in err or "skip.jsonl.zst" in err))


def case_s31_flood():
    """Session 31: 200,000 identical records at --memory-limit 16M, as JSON
    Lines and Parquet, with an HTML page, GitHub annotations and
    --annotate, at 1 and 2 threads: within the limit + 64 MiB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "ident.jsonl"), "w") as f:
            for i in range(200000):
                f.write(json.dumps({"id": f"doc-{i}", "text": "the very same words in every record of this flood here"}) + "\n")
        pq.write_table(pa.table({"id": [f"doc-{i}" for i in range(200000)], "text": ["the very same words in every record of this flood here"] * 200000}), os.path.join(d, "ident.parquet"))
        for name in ["ident.jsonl", "ident.parquet"]:
            ext = name.split(".", 1)[1]
            for args in [["scan", "-q", "--html", "p.html"], ["check", "-q", "--output-format", "github"], ["clean", "-q", "--annotate", "-o", "o." + ext]]:
                for threads in ["1", "2"]:
                    full = [*args, "--threads", threads, "--memory-limit", "16M", "--tmp-dir", d, name]
                    t = time.time()
                    code, mib, err = peak_rss(full, d)
                    row(f"s31-flood: {name}, {' '.join(args[:3])}, {threads} thread(s) at 16M", "neardup " + " ".join(full), "exit 0/1; within the limit + 64 MiB",
                        f"exit {code}; peak {mib} MiB; {time.time() - t:.1f}s; {short(err, 50)}", code in (0, 1) and mib <= 80)

def snapshot(d):
    """Every file under `d` (relative path -> hash; links as their target,
    FIFOs, sockets and devices by their type, never opened)."""
    found = {}
    for root, dirs, files in os.walk(d):
        for name in files + [x for x in dirs if os.path.islink(os.path.join(root, x))]:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, d)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                found[rel] = "-> " + os.readlink(path)
            else:
                found[rel] = sha(path) if stat.S_ISREG(mode) else f"special {stat.S_IFMT(mode):o}"
    return found


def changes(before, after):
    """What differs between two snapshots, briefly."""
    out = [f"+{p}" for p in after if p not in before] + [f"-{p}" for p in before if p not in after]
    out += [f"~{p}" for p in before if p in after and before[p] != after[p]]
    return out


def dup_records(path, count=3000, copies=3, length=80):
    """`count` JSON Lines records, each text `copies` times (a report of many clusters)."""
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"id": f"doc-{i}", "text": words(length, seed=i // copies)}) + "\n")


def case_s32_disk():
    """Session 32: disk full on the one target of several that does not
    fit (an --html page, a --step-summary appended to, a report on standard
    output, a compressed, Parquet or --annotate output, an index merge, a
    --tmp-dir), each with an --update: exit 2, every file as it was (the
    index, the step summary, the outputs beside it, no lock or temp left)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, args, shell in [
        ("--html on a full disk, check --step-summary --update", ["check", "-q", "--output-format", "github", "--step-summary", "s.md", "--index", "u.ndx", "--update", "--html", "small/p.html", "big.jsonl"], None),
        ("--html on a full disk, clean -o --update", ["clean", "-q", "big.jsonl", "-o", "out.jsonl", "--html", "small/p.html", "--index", "u.ndx", "--update"], None),
        ("--html on a full disk, in chunks", ["clean", "-q", "big.jsonl", "-o", "out.jsonl", "--html", "small/p.html", "--index", "u.ndx", "--update", "--memory-limit", "1M", "--tmp-dir", "."], None),
        ("--step-summary on a full disk, --update", ["check", "-q", "--output-format", "github", "--step-summary", "small/s.md", "--index", "u.ndx", "--update", "big.jsonl"], None),
        ("--report on a full disk, --out-dir --update", ["clean", "-q", "big.jsonl", "--out-dir", "od", "--report", "small/r.json", "--json", "--index", "u.ndx", "--update"], None),
        ("--report text on a full disk, in chunks", ["clean", "-q", "big.jsonl", "-o", "out.jsonl", "--report", "small/r.txt", "--memory-limit", "1M", "--tmp-dir", ".", "--index", "u.ndx", "--update"], None),
        ("scan --json > a file on a full disk, --update", ["scan", "-q", "--json", "--index", "u.ndx", "--update", "big.jsonl"], "small/x.json"),
        ("clean > a file on a full disk, in chunks, --update", ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", ".", "--index", "u.ndx", "--update", "big.jsonl"], "small/x.jsonl"),
        ("-o .gz on a full disk, --update", ["clean", "-q", "big.jsonl", "-o", "small/o.jsonl.gz", "--index", "u.ndx", "--update"], None),
        ("-o .zst on a full disk, in chunks, --update", ["clean", "-q", "big.jsonl", "-o", "small/o.jsonl.zst", "--memory-limit", "1M", "--tmp-dir", ".", "--index", "u.ndx", "--update"], None),
        ("--annotate -o on a full disk, --update", ["clean", "-q", "--annotate", "big.jsonl", "-o", "small/o.jsonl", "--index", "u.ndx", "--update"], None),
        ("-o .parquet on a full disk, --update", ["clean", "-q", "big.parquet", "-o", "small/o.parquet", "--index", "u.ndx", "--update"], None),
        ("--out-dir of Parquet on a full disk, --update", ["clean", "-q", "big.parquet", "--out-dir", "small/od", "--index", "u.ndx", "--update"], None),
        ("index merge -o on a full disk", ["index", "merge", "u.ndx", "b.ndx", "-o", "small/m.ndx"], None),
        ("index merge -o on a full disk, --memory-limit 64K", ["index", "merge", "--memory-limit", "64K", "--tmp-dir", ".", "u.ndx", "b.ndx", "-o", "small/m.ndx"], None),
        ("--tmp-dir on a full disk, --update", ["scan", "-q", "--memory-limit", "1M", "--tmp-dir", "small", "--index", "u.ndx", "--update", "big.jsonl"], None),
        ("--tmp-dir on a full disk, clean -o --update", ["clean", "-q", "--memory-limit", "1M", "--tmp-dir", "small", "--index", "u.ndx", "--update", "big.jsonl", "-o", "out.jsonl"], None),
        ("index merge --tmp-dir on a full disk", ["index", "merge", "--memory-limit", "64K", "--tmp-dir", "small", "u.ndx", "b.ndx", "-o", "m.ndx"], None),
    ]:
        with tempfile.TemporaryDirectory() as d:
            dup_records(os.path.join(d, "big.jsonl"))
            rows = [json.loads(line) for line in open(os.path.join(d, "big.jsonl"))]
            pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), os.path.join(d, "big.parquet"))
            write(os.path.join(d, "a.txt"), TEXT)
            write_records(os.path.join(d, "other.jsonl"), 300, 60)
            assert nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)[0] == 0
            assert nd(["index", "build", "-q", "big.jsonl", "-o", "b.ndx"], d)[0] == 0
            for kept in ["s.md", "out.jsonl"]:
                write(os.path.join(d, kept), "old\n")
            with tmpfs(d, "64k") as mnt:
                if mnt is None:
                    row("s32-disk", "mount tmpfs", "", "skipped (not root)", True)
                    return
                write(os.path.join(mnt, "s.md"), "old\n")
                if shell:
                    open(os.path.join(d, shell), "w").close()
                fill(mnt)
                before = snapshot(d)
                if shell:
                    with open(os.path.join(d, shell), "ab") as out:
                        code, _, err = nd(args, d, stdout=out)
                else:
                    code, _, err = nd(args, d)
                diff = changes(before, snapshot(d))
                shown = "neardup " + " ".join(args) + (f" >> {shell}" if shell else "")
                row(f"s32-disk: {name}", shown, "exit 2 naming the target; every file as it was",
                    f"exit {code}; {short(err, 70)}; changed {diff}", code == 2 and not diff and not crashed(code, err) and err.startswith("neardup:"))

def case_s32_memory():
    """Session 32: Parquet written back under --memory-limit 16M from a
    file of one row group (what pyarrow's write_table makes of up to a
    million rows): 60,000 rows of a short text and 1 KiB of random hex
    (60 MB that does not compress, every row kept), to -o, --out-dir and
    with --annotate, at 1 and 2 threads: within the limit + 64 MiB."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import random

    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(32)
        n = 60000
        texts = [f"record {i} of the batch says w{i % 97} w{i % 89} w{i % 83} today" for i in range(n)]
        blobs = [rng.randbytes(512).hex() for _ in range(n)]
        # Pages of 256 KiB (pyarrow's default pages of this blob column, 3.7 MB
        # with its dictionary, are refused at 16M by name, as they should be).
        pq.write_table(pa.table({"id": list(range(n)), "text": texts, "blob": blobs}), os.path.join(d, "one.parquet"), use_dictionary=False, data_page_size=256 << 10)
        for args in [["clean", "-q", "one.parquet", "-o", "o.parquet"], ["clean", "-q", "one.parquet", "--out-dir", "od"], ["clean", "-q", "--annotate", "one.parquet", "-o", "o.parquet"]]:
            for threads in ["1", "2"]:
                full = [*args, "--threads", threads, "--memory-limit", "16M", "--tmp-dir", "."]
                code, mib, err = peak_rss(full, d)
                row(f"s32-memory: one row group of 60 MB, {' '.join(args[2:])}, {threads} thread(s) at 16M", "neardup " + " ".join(full), "exit 0; within the limit + 64 MiB",
                    f"exit {code}; peak {mib} MiB; {short(err, 50)}", code == 0 and mib <= 80)

def case_s32_tiny():
    """Session 32: tiny records (six words) against ordinary ones, time per
    MB, with --method simhash (whole and in chunks at 16M), --annotate and
    Parquet in and out at 16M: within 3x (the best of 3 runs each)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import random

    with tempfile.TemporaryDirectory() as d:
        rng = random.Random(9)
        vocab = [f"w{i}" for i in range(20000)]
        for name, make in [("ord", lambda: "\n\n".join(" ".join(rng.choice(vocab) for _ in range(rng.randrange(20, 60))) for _ in range(rng.randrange(2, 8)))),
                           ("tiny", lambda: " ".join(rng.choice(vocab) for _ in range(6)))]:
            texts, size = [], 0
            with open(os.path.join(d, name + ".jsonl"), "w") as f:
                while size < 5_000_000:
                    texts.append(make())
                    line = json.dumps({"id": len(texts), "text": texts[-1]}) + "\n"
                    f.write(line)
                    size += len(line)
            pq.write_table(pa.table({"id": list(range(len(texts))), "text": texts}), os.path.join(d, name + ".parquet"))

        def timed(args, name):
            best = None
            for _ in range(3):
                t = time.time()
                subprocess.run([B] + args + [name], cwd=d, capture_output=True, timeout=600)
                took = time.time() - t
                best = took if best is None else min(best, took)
            return best / (os.path.getsize(os.path.join(d, name)) / 1e6)

        limit = ["--memory-limit", "16M", "--tmp-dir", "."]
        for args, ext in [(["scan", "-q", "--method", "simhash"], "jsonl"), (["scan", "-q", "--method", "simhash", *limit], "jsonl"),
                          (["clean", "-q", "--annotate", *limit, "-o", "o.jsonl"], "jsonl"), (["clean", "-q", *limit, "-o", "o.parquet"], "parquet")]:
            o, t = timed(args, "ord." + ext), timed(args, "tiny." + ext)
            row(f"s32-tiny: six-word records vs ordinary, {' '.join(a for a in args[1:] if a not in ('-q', '--tmp-dir', '.', '-o', 'o.jsonl', 'o.parquet'))} .{ext}", f"neardup {' '.join(args)} tiny.{ext}",
                "within 3x ordinary's time per MB", f"ordinary {o * 1000:.0f} ms/MB, tiny {t * 1000:.0f} ms/MB ({t / o:.1f}x)", t <= 3 * o)

def case_s32_paths():
    """Session 32: outputs that alias through --out-dir (the index, report
    or page named as the file the tree would hold), /proc/self/cwd, a
    Unix socket as -o, a symlink loop as input, two arguments whose files
    land on one --out-dir path, and a run waiting to write a FIFO with no
    reader stopped by SIGTERM: refused (exit 2, nothing changed) or
    stopped with nothing changed."""
    import socket

    with set_up() as d:
        nd(["index", "build", "-q", "a.txt", "-o", "u.ndx"], d)
        keep = ["r.jsonl", "a.txt", "u.ndx"]
        for flag in ["--index", "--report", "--html"]:
            extra = ["--update"] if flag == "--index" else []
            refused(f"s32-paths: --out-dir od with {flag} od/r.jsonl", ["clean", "-q", "r.jsonl", "--out-dir", "od", flag, "od/r.jsonl", *extra], d, keep)
        refused("s32-paths: --report /proc/self/cwd/r.jsonl (the input)", ["clean", "-q", "r.jsonl", "-o", "o.jsonl", "--report", "/proc/self/cwd/r.jsonl"], d, keep)
        refused("s32-paths: --index /proc/self/cwd/u.ndx --update, -o u.ndx", ["clean", "-q", "a.txt", "--index", "/proc/self/cwd/u.ndx", "--update", "-o", "u.ndx"], d, keep)
        os.mkdir(os.path.join(d, "d1"))
        os.mkdir(os.path.join(d, "d2"))
        shutil.copy(os.path.join(d, "a.txt"), os.path.join(d, "d1", "x.txt"))
        shutil.copy(os.path.join(d, "a.txt"), os.path.join(d, "d2", "x.txt"))
        refused("s32-paths: two directories' x.txt onto one --out-dir path", ["clean", "-q", "d1", "d2", "--out-dir", "od"], d, keep + ["d1/x.txt", "d2/x.txt"])
        os.symlink("loop", os.path.join(d, "loop"))
        refused("s32-paths: a symlink loop as input", ["scan", "-q", "loop"], d, keep)
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, "sock"))
        try:
            refused("s32-paths: -o a Unix socket", ["clean", "-q", "r.jsonl", "-o", "sock"], d, keep)
            still = stat.S_ISSOCK(os.lstat(os.path.join(d, "sock")).st_mode)
            row("s32-paths: -o a Unix socket, kept", "neardup clean r.jsonl -o sock", "still a socket", f"socket {still}", still)
        finally:
            s.close()
        os.mkfifo(os.path.join(d, "fifo"))
        before = snapshot(d)
        p = subprocess.Popen([B, "clean", "-q", "a.txt", "--index", "u.ndx", "--update", "-o", "fifo"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        code = terminated_after(p, 2)
        diff = changes(before, snapshot(d))
        row("s32-paths: -o a FIFO with no reader, --update, SIGTERM while it waits", "neardup clean a.txt --index u.ndx --update -o fifo; kill -TERM",
            "exit 143; every file as it was", f"exit {code}; changed {diff}", code == 143 and not diff)


def index_documents(d, name):
    """How many documents the index `name` holds (-1: none there)."""
    code, out, _ = nd(["index", "stats", "--json", name], d)
    return json.loads(out)["documents"] if code == 0 else -1


def case_s33_sweep():
    """Session 33: files a run reads (or updates) that are named as a dead
    run's temporary file (`.neardup-PID-XXXXXX.tmp`, PID long gone: a copy
    of a directory with a killed run's leftovers, a user's own name): the
    sweep of dead runs' files beside a target or an index removed the run's
    own input before reading it, the read-only `--reference` of a `clean`,
    the index an `--update` was about to read, and a user's
    `.neardup-old.tmp`. Every such file must stay as it was (the index
    updated, not lost); the run succeeds. Each case in a directory of its
    own."""
    dead_in, dead_ref, dead_ndx = ".neardup-4194399-5-a1b2c3.tmp", ".neardup-4194399-abcdef.tmp", ".neardup-index-4194399-7-d4e5f6.tmp"
    for name, args, reads in [
        ("an input so named", ["clean", "-q", "--format", "jsonl", dead_in, "-o", "o.jsonl"], [dead_in]),
        ("an input through a link", ["clean", "-q", "link.jsonl", "-o", "o.jsonl"], [dead_in]),
        ("--reference so named", ["clean", "-q", "--reference", dead_ref, "r.jsonl", "-o", "o.jsonl"], [dead_ref]),
        ("--index so named, --update", ["scan", "-q", "--index", dead_ndx, "--update", "r.jsonl"], []),
        ("index merge of two so named", ["index", "merge", "-q", dead_ref, dead_ndx, "-o", "m.ndx"], [dead_ref, dead_ndx]),
        ("a user's .neardup-old.tmp beside -o", ["clean", "-q", "r.jsonl", "-o", "o.jsonl"], []),
    ]:
        with set_up() as d:
            nd(["index", "build", "-q", "r.jsonl", "-o", "ref.ndx"], d)
            nd(["index", "build", "-q", "a.txt", "-o", "a.ndx"], d)
            os.rename(os.path.join(d, "ref.ndx"), os.path.join(d, dead_ref))
            os.rename(os.path.join(d, "a.ndx"), os.path.join(d, dead_ndx))
            shutil.copy(os.path.join(d, "r.jsonl"), os.path.join(d, dead_in))
            shutil.copy(os.path.join(d, "r.jsonl"), os.path.join(d, ".neardup-old.tmp"))
            os.symlink(dead_in, os.path.join(d, "link.jsonl"))
            keep = reads + [".neardup-old.tmp"]
            before = {p: sha(os.path.join(d, p)) for p in keep}
            held = index_documents(d, dead_ndx)
            code, _, err = nd(args, d)
            after = {p: sha(os.path.join(d, p)) for p in keep}
            gone = [p for p in keep if before[p] != after[p]]
            if "--update" in args and index_documents(d, dead_ndx) != held + 40:
                gone.append(f"{dead_ndx} holds {index_documents(d, dead_ndx)} documents, not {held} + 40")
            row(f"s33-sweep: {name}", "neardup " + " ".join(args), "exit 0; every file the run reads as it was (an updated index there), a user's .neardup-old.tmp too",
                f"exit {code}; {'removed/changed ' + str(gone) if gone else 'kept'}; {short(err, 60)}", code == 0 and not gone)

def case_s33_nonblocking():
    """Session 33: standard input and output that a parent left
    non-blocking (O_NONBLOCK on a pipe it shares, as event loops do): a
    slowly written input pipe, and an output pipe read only after 0.5 s,
    whole and at --memory-limit 1M. The run stopped part way with
    `Resource temporarily unavailable (os error 11)`, exit 2; it must wait
    and give the bytes ordinary pipes give."""
    import fcntl

    def nonblock(fd):
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)

    with tempfile.TemporaryDirectory() as d:
        dup_records(os.path.join(d, "big.jsonl"), count=20000, copies=2, length=20)
        with open(os.path.join(d, "big.jsonl"), "rb") as f:
            data = f.read()
        for limit in [[], ["--memory-limit", "1M", "--tmp-dir", "."]]:
            args = ["clean", "-q", "--format", "jsonl", *limit]
            _, expected, _ = nd(args + ["big.jsonl"], d)
            r, w = os.pipe()
            nonblock(r)
            p = subprocess.Popen([B] + args + ["-"], cwd=d, stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            os.close(r)

            def feed():
                try:
                    for i in range(0, len(data), 65536):
                        os.write(w, data[i:i + 65536])
                        time.sleep(0.005)
                except OSError:
                    pass
                os.close(w)

            t = threading.Thread(target=feed)
            t.start()
            out, err = p.communicate(timeout=300)
            t.join()
            row(f"s33-nonblocking: standard input non-blocking {' '.join(limit[:2])}", f"slow writer | neardup {' '.join(args)} - (O_NONBLOCK)", "exit 0, the bytes of a blocking pipe",
                f"exit {p.returncode}; same {out == expected}; {short(err.decode('utf-8', 'replace'), 70)}", p.returncode == 0 and out == expected)
            r, w = os.pipe()
            nonblock(w)
            p = subprocess.Popen([B] + args + ["big.jsonl"], cwd=d, stdout=w, stderr=subprocess.PIPE)
            os.close(w)
            time.sleep(0.5)
            got = b""
            while True:
                b = os.read(r, 65536)
                if not b:
                    break
                got += b
            os.close(r)
            err = p.stderr.read().decode("utf-8", "replace")
            p.wait()
            row(f"s33-nonblocking: standard output non-blocking {' '.join(limit[:2])}", f"neardup {' '.join(args)} big.jsonl (O_NONBLOCK) | late reader", "exit 0, the bytes of a blocking pipe",
                f"exit {p.returncode}; {len(got)} of {len(expected)} bytes; {short(err, 70)}", p.returncode == 0 and got == expected)


def case_s33_help():
    """Session 33: `--help` and `--version` into a full device (mknod 1,7,
    as root): they exited 0 having written nothing; a failed write is exit
    2 with a message. Into a null device: exit 0."""
    if os.geteuid() != 0:
        row("s33-help", "", "", "skipped (not root)", True)
        return
    with tempfile.TemporaryDirectory() as d:
        os.mknod(os.path.join(d, "full"), 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        for args in [["--help"], ["--version"], ["index", "merge", "--help"], ["help", "check"]]:
            with open(os.path.join(d, "full"), "wb") as full:
                code, _, err = nd(args, d, stdout=full)
            row(f"s33-help: {' '.join(args)} > a full device", f"neardup {' '.join(args)} > full", "exit 2 saying the write failed",
                f"exit {code}; {short(err, 70)}", code == 2 and "No space left" in err and not crashed(code, err))


def case_s33_commit():
    """Session 33: SIGTERM while a run renames 20,000 staged --out-dir files
    into place (just after the first one changed): the tree was left part
    new, part old (7-26 of 20,000 new), exit 143. It must be all old or all
    new, no temporary file left, and exit 0 exactly when all new (as the
    s20-signals rows ask)."""
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "in"))
        os.makedirs(os.path.join(d, "od"))
        n = 20000
        for i in range(n):
            write(os.path.join(d, "in", f"f{i:05d}.txt"), f"document {i} with words of its own {i * 7} and {i % 17}\n")
            write(os.path.join(d, "od", f"f{i:05d}.txt"), "old\n")
        for after in [0.0, 0.05]:
            for i in range(n):
                write(os.path.join(d, "od", f"f{i:05d}.txt"), "old\n")
            p = subprocess.Popen([B, "clean", "-q", "in", "--out-dir", "od"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            first = os.path.join(d, "od", "f00000.txt")
            start = time.time()
            while p.poll() is None and time.time() - start < 300:
                with open(first) as f:
                    if f.read() != "old\n":
                        break
                time.sleep(0.001)
            time.sleep(after)
            p.send_signal(signal.SIGTERM)
            err = p.stderr.read().decode("utf-8", "replace")
            code = p.wait()
            old_count = 0
            for i in range(n):
                with open(os.path.join(d, "od", f"f{i:05d}.txt")) as f:
                    old_count += f.read() == "old\n"
            left = temps(d)
            row(f"s33-commit: SIGTERM {after}s after the first of 20,000 --out-dir renames", "neardup clean in --out-dir od; kill -TERM once od/f00000.txt changed",
                "all old or all new; no temporary file", f"exit {code}; {old_count} old of {n}; temps {len(left)}; {short(err, 60)}", old_count in (0, n) and not left and (code == 0) == (old_count == 0) and "panicked" not in err)


def as_nobody(args, cwd):
    """`neardup args` as the user nobody (setpriv, as root), else as the
    user running this: (exit, stderr), or None when it cannot be run so."""
    if os.geteuid() != 0:
        code, _, err = nd(args, cwd)
        return code, err
    if shutil.which("setpriv") is None:
        return None
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", B] + args, cwd=cwd,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def case_s34_readonly():
    """Session 34: a read-only (0444) existing target in a writable
    directory, as an unprivileged user: the rename replaced it (a shell's
    `>` and `cp` refuse). Refused before anything is read, exit 2, naming
    it, every file as it was."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        setup(d)
        for root, dirs, files in os.walk(d):
            for n in dirs:
                os.chmod(os.path.join(root, n), 0o777)
        nd(["index", "build", "-q", "r.jsonl", "-o", "i.ndx"], d)
        shutil.copy(os.path.join(d, "i.ndx"), os.path.join(d, "j.ndx"))
        os.makedirs(os.path.join(d, "od"))
        os.chmod(os.path.join(d, "od"), 0o777)
        for n in ["o.jsonl", "rep.txt", "p.html", "od/r.jsonl", "s.md"]:
            write(os.path.join(d, n), "old\n")
        watched = ["o.jsonl", "rep.txt", "p.html", "od/r.jsonl", "s.md", "i.ndx", "j.ndx", "r.jsonl"]
        for n in watched[:-1]:
            os.chmod(os.path.join(d, n), 0o444)
        for args, named in [(["clean", "-q", "r.jsonl", "-o", "o.jsonl"], "o.jsonl (-o)"),
                            (["clean", "-q", "r.jsonl", "-o", "new.jsonl", "--report", "rep.txt"], "rep.txt (--report)"),
                            (["scan", "-q", "r.jsonl", "--html", "p.html"], "p.html (--html)"),
                            (["clean", "-q", "r.jsonl", "--out-dir", "od"], "od/r.jsonl (--out-dir output)"),
                            (["check", "-q", "r.jsonl", "--step-summary", "s.md"], "s.md (--step-summary)"),
                            (["clean", "-q", "a.txt", "--index", "i.ndx", "--update", "-o", "new.txt"], "i.ndx (--index)"),
                            (["index", "build", "-q", "r.jsonl", "-o", "i.ndx"], "i.ndx (index build -o)"),
                            (["index", "merge", "i.ndx", "j.ndx", "-o", "j.ndx"], "j.ndx (index merge -o)")]:
            before = {n: sha(os.path.join(d, n)) for n in watched}
            got = as_nobody(args, d)
            if got is None:
                row("s34-readonly", "", "", "skipped (no setpriv)", True)
                return
            code, err = got
            changed = [n for n in watched if sha(os.path.join(d, n)) != before[n]]
            row(f"s34-readonly: a 0444 {named.split(' (')[1][:-1]} as nobody", "setpriv --reuid=nobody neardup " + " ".join(args),
                "exit 2 naming it (not writable); every file as it was", f"exit {code}; {short(err, 70)}" + (f"; CHANGED {changed}" if changed else ""),
                code == 2 and f"{named}: not writable" in err and not changed and not crashed(code, err))
        if os.geteuid() == 0:
            code, _, err = nd(["clean", "-q", "r.jsonl", "-o", "o.jsonl"], d)
            row("s34-readonly: a 0444 -o as root", "neardup clean r.jsonl -o o.jsonl (0444, as root)", "replaced, exit 0 (root's `>` writes it too)",
                f"exit {code}; {'replaced' if not old(os.path.join(d, 'o.jsonl')) else 'old'}; {short(err, 50)}", code == 0 and not old(os.path.join(d, "o.jsonl")))


def case_s34_padding():
    """Session 34: gzip with trailing zero bytes (a tape or `dd` block's
    padding: GNU gzip decompresses it) was an error; other trailing bytes
    are an error naming their byte offset, and zstd takes none (as the
    zstd tool)."""
    with set_up() as d:
        raw = open(os.path.join(d, "r.jsonl"), "rb").read()
        import gzip as gz
        member = gz.compress(raw, mtime=0)
        two = gz.compress(raw[:5000], mtime=0) + gz.compress(raw[5000:], mtime=0)
        zst = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE).stdout if shutil.which("zstd") else None
        _, want, _ = nd(["clean", "-q", "r.jsonl"], d)
        for name, data in [("pad.jsonl.gz", member + bytes(512)), ("pad1.jsonl.gz", member + b"\0"), ("two.jsonl.gz", two + bytes(10_000))]:
            write(os.path.join(d, name), data)
            for how, args, stdin in [("whole", ["clean", "-q", name], None), ("in chunks", ["clean", "-q", "--memory-limit", "64K", "--tmp-dir", d, name], None),
                                     ("standard input", ["clean", "-q", "-"], data)]:
                code, out, err = nd(args, d, stdin=stdin)
                row(f"s34-padding: {name} ({how})", "neardup " + " ".join(args), "exit 0; the same output as the file unpadded",
                    f"exit {code}; {'same' if out == want else 'DIFFERENT'}; {short(err, 70)}", code == 0 and out == want)
        cases = [("garbage.jsonl.gz", member + b"garbage\n", len(member)), ("zeros-garbage.jsonl.gz", member + b"\0\0\0x", len(member) + 3)]
        if zst is not None:
            cases += [("pad.jsonl.zst", zst + bytes(512), len(zst)), ("garbage.jsonl.zst", zst + b"garbage", len(zst))]
        for name, data, offset in cases:
            write(os.path.join(d, name), data)
            code, _, err = nd(["scan", "-q", name], d)
            row(f"s34-padding: {name}", f"neardup scan {name}", f"exit 2 naming byte offset {offset}",
                f"exit {code}; {short(err, 90)}", code == 2 and name in err and f"byte offset {offset}," in err)


def case_s34_glob():
    """Session 34: `--glob` of 100,000 `*` said `error building NFA` without
    naming the glob; a long glob that matches nothing was printed whole
    (120 KB of message)."""
    with set_up() as d:
        for glob, other in [("*" * 100_000, ["--glob", "*.txt"]), ("[a-z]*" * 20_000, [])]:
            code, _, err = nd(["scan", "-q", ".", *other, "--glob", glob], d)
            row(f"s34-glob: {len(glob):,} characters of {glob[:3]!r}", f"neardup scan . {' '.join(other)} --glob '{glob[:6]}...'", "exit 2 naming --glob and the pattern, shortened",
                f"exit {code}; {short(err, 90)}", code == 2 and f'--glob "{glob[:20]}' in err and "characters)" in err and len(err) < 600)


def case_s34_check_pipe():
    """Session 34: `check` whose reader closed the pipe (`check ... | head`,
    the reader gone before the report) exited 0 over the limit: a CI gate
    with `pipefail` passed. Its verdict stands: 1 over, 0 under."""
    with set_up() as d:
        write(os.path.join(d, "one.txt"), "A single paragraph of words of its own.\n")
        for name, want in [("r.jsonl", 1), ("one.txt", 0)]:
            for fmt in ["text", "json", "github"]:
                r, w = os.pipe()
                os.close(r)
                p = subprocess.run([B, "check", name, "--output-format", fmt], cwd=d, stdout=w, stderr=subprocess.PIPE, timeout=120)
                os.close(w)
                err = p.stderr.decode("utf-8", "replace")
                row(f"s34-check-pipe: check {name} --output-format {fmt}, reader gone", f"neardup check {name} --output-format {fmt} \\| (closed)",
                    f"exit {want}", f"exit {p.returncode}; {short(err, 60)}", p.returncode == want and not crashed(p.returncode, err))


def case_s35_stack():
    """Session 35: a small stack (`ulimit -s 64`, the main thread's): even
    `--version` overflowed it, `thread 'main' has overflowed its stack`,
    abort (exit 134). The command runs on a thread of its own stack."""
    with set_up() as d:
        want = {}
        cases = [["--version"], ["scan", "-q", "r.jsonl"], ["clean", "-q", "r.jsonl", "-o", "o.jsonl"],
                 ["clean", "-q", "--memory-limit", "64K", "--tmp-dir", d, "r.jsonl", "-o", "o.jsonl"], ["index", "build", "-q", "r.jsonl", "-o", "i.ndx"]]
        for args in cases:
            want[tuple(args)] = nd(args, d)[:2]
        for kib in [32, 64]:
            for args in cases:
                p = subprocess.run(["bash", "-c", f"ulimit -s {kib}; exec {B} " + " ".join(args)], cwd=d, capture_output=True, timeout=300)
                err = p.stderr.decode("utf-8", "replace")
                same = (p.returncode, p.stdout) == want[tuple(args)]
                row(f"s35-stack: ulimit -s {kib}, {' '.join(args[:2])}", f"ulimit -s {kib}; neardup {' '.join(args)}", "as without the limit (exit, output)",
                    f"exit {p.returncode}; {'same' if same else 'DIFFERENT'}; {short(err, 60)}", same and not crashed(p.returncode, err))


def case_s35_endless():
    """Session 35: `--format jsonl` (or a `.jsonl` name) on an endless
    stream whose line 1 is no record (`yes`, a zero device) read to a
    quarter of memory (2.5 GB, 18 s) before `too large`. The error comes at
    the first bad line (the first error of what was read before it)."""
    with set_up() as d:
        good = b'{"id":1,"text":"a b c d"}\n'
        for name, head, line, want in [("yes", b"", 1, "invalid JSON at column 1"), ("a record, then yes", good, 2, "invalid JSON at column 1"),
                                       ("a bad record, then yes", good + b'{"id":2}\n', 2, "no \"text\" field")]:
            for how in ["FIFO", "standard input"]:
                fifo = os.path.join(d, "in.jsonl")
                if os.path.exists(fifo):
                    os.unlink(fifo)
                write(os.path.join(d, "head.bin"), head)
                feeder = "cat head.bin; yes"
                if how == "FIFO":
                    os.mkfifo(fifo)
                    cmd = f"({feeder}) > in.jsonl 2>/dev/null & exec {B} scan -q in.jsonl"
                    shown = "neardup scan in.jsonl (a FIFO fed by yes)"
                    where = f"in.jsonl:{line}:"
                else:
                    cmd = f"({feeder}) 2>/dev/null | {B} scan -q --format jsonl -"
                    shown = "yes \\| neardup scan --format jsonl -"
                    where = f"<stdin>:{line}:"
                start = time.time()
                p = subprocess.Popen(["bash", "-c", cmd], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
                try:
                    _, err = p.communicate(timeout=120)
                    code = p.returncode
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    _, err = p.communicate()
                    code = "hung"
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                err = err.decode("utf-8", "replace")
                took = time.time() - start
                row(f"s35-endless: {name}, {how}", shown, f"exit 2 within seconds naming line {line}",
                    f"exit {code} after {took:.1f}s; {short(err, 80)}", code == 2 and where in err and want in err and took < 20)
        if os.geteuid() == 0:
            dev = os.path.join(d, "zero.jsonl")
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 5))
            start = time.time()
            code, _, err = nd(["scan", "-q", "zero.jsonl"], d, timeout=300)
            took = time.time() - start
            row("s35-endless: a zero device named .jsonl (mknod 1,5)", "neardup scan ./zero.jsonl", "exit 2 within seconds naming line 1",
                f"exit {code} after {took:.1f}s; {short(err, 80)}", code == 2 and "zero.jsonl:1:" in err and took < 20)


def case_s35_empty_parquet():
    """Session 35: an empty (0-byte) `.parquet` input was an error (`not a
    readable Parquet file`) where an empty `.jsonl.gz` is zero documents;
    now zero documents too, and its output as empty."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        row("s35-empty-parquet", "", "", "skipped (no pyarrow)", True)
        return
    with tempfile.TemporaryDirectory() as d:
        rows = [json.loads(l) for l in records().splitlines()]
        pq.write_table(pa.table({"id": [r["id"] for r in rows[:20]], "text": [r["text"] for r in rows[:20]]}), os.path.join(d, "a.parquet"))
        pq.write_table(pa.table({"id": [r["id"] for r in rows[20:]], "text": [r["text"] for r in rows[20:]]}), os.path.join(d, "b.parquet"))
        open(os.path.join(d, "empty.parquet"), "wb").close()
        open(os.path.join(d, "empty.jsonl.gz"), "wb").close()
        for args in [["scan", "empty.parquet"], ["scan", "empty.jsonl.gz"], ["check", "empty.parquet"], ["scan", "--memory-limit", "64K", "--tmp-dir", ".", "empty.parquet"]]:
            code, out, err = nd(args, d)
            row(f"s35-empty-parquet: {' '.join(args)}", "neardup " + " ".join(args), "exit 0, 0 documents", f"exit {code}; {short(out.decode(), 40)}; {short(err, 60)}",
                code == 0 and out.decode().startswith("0 documents"))
        code, _, err = nd(["clean", "-q", "empty.parquet", "-o", "o.parquet"], d)
        size = os.path.getsize(os.path.join(d, "o.parquet")) if os.path.exists(os.path.join(d, "o.parquet")) else None
        row("s35-empty-parquet: clean empty.parquet -o o.parquet", "neardup clean empty.parquet -o o.parquet", "exit 0, an empty output", f"exit {code}; {size} bytes; {short(err, 60)}", code == 0 and size == 0)
        for extra in [[], ["--memory-limit", "64K", "--tmp-dir", "."]]:
            nd(["clean", "-q", "a.parquet", "b.parquet", "-o", "want.parquet", *extra], d)
            code, _, err = nd(["clean", "-q", "a.parquet", "empty.parquet", "b.parquet", "-o", "got.parquet", *extra], d)
            same = code == 0 and pq.read_table(os.path.join(d, "got.parquet")).equals(pq.read_table(os.path.join(d, "want.parquet")))
            row(f"s35-empty-parquet: -o one.parquet with an empty input between two {' '.join(extra[:2])}", "neardup clean a.parquet empty.parquet b.parquet -o got.parquet",
                "exit 0, the rows of a and b's run", f"exit {code}; {'same rows' if same else 'DIFFERENT'}; {short(err, 60)}", same)
            shutil.rmtree(os.path.join(d, "od"), ignore_errors=True)
            code, _, err = nd(["clean", "-q", "a.parquet", "empty.parquet", "b.parquet", "--out-dir", "od", *extra], d)
            sizes = {n: os.path.getsize(os.path.join(d, "od", n)) for n in os.listdir(os.path.join(d, "od"))} if os.path.isdir(os.path.join(d, "od")) else {}
            row(f"s35-empty-parquet: --out-dir with an empty input {' '.join(extra[:2])}", "neardup clean a.parquet empty.parquet b.parquet --out-dir od",
                "exit 0, od/empty.parquet empty, the others Parquet", f"exit {code}; {sizes}; {short(err, 60)}", code == 0 and sizes.get("empty.parquet") == 0 and sizes.get("a.parquet", 0) > 0)
        code, _, err = nd(["index", "build", "-q", "empty.parquet", "a.parquet", "-o", "i.ndx"], d)
        row("s35-empty-parquet: index build with an empty input", "neardup index build empty.parquet a.parquet -o i.ndx", "exit 0", f"exit {code}; {short(err, 60)}", code == 0)


def case_s35_nfkc():
    """Session 35: text whose NFKC form is many times longer. U+FDFA (3
    bytes) normalizes to 18 characters (33 bytes, 4 words): a chunk counted
    by its bytes of text holds 11 times the normalized text and 10 times the
    shingles of ordinary text, and 6 MB of such records at `--memory-limit
    64M` peak at about 100 MiB. Fixed in session 36 (a chunk counts text by
    its normalized length, `normalize::expansion`): 17 MiB. A character
    followed by 25 million combining marks, and 50 MB of one word or of no
    space, stay bounded."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "fdfa.jsonl"), "w") as f:
            for i in range(60):
                f.write(json.dumps({"id": i, "text": "\ufdfa" * 33000 + f" x{i}"}, ensure_ascii=False) + "\n")
        code, mib, err = peak_rss(["clean", "-q", "--memory-limit", "64M", "--tmp-dir", d, "fdfa.jsonl", "-o", "o.jsonl"], d)
        row("s35-nfkc: 6 MB of U+FDFA records at --memory-limit 64M", "neardup clean --memory-limit 64M fdfa.jsonl -o o.jsonl", "exit 0; peak within 64 + 16 MiB",
            f"exit {code}; peak {mib} MiB; {short(err, 60)}", code == 0 and mib <= 80 and not crashed(code, err))
        write(os.path.join(d, "marks.txt"), "a" + "\u0301" * 5_000_000 + "\n")
        code, mib, err = peak_rss(["scan", "-q", "--memory-limit", "256M", "marks.txt"], d)
        row("s35-nfkc: one letter and 5M combining marks at --memory-limit 256M", "neardup scan --memory-limit 256M marks.txt", "exit 0; peak within 256 + 16 MiB",
            f"exit {code}; peak {mib} MiB; {short(err, 60)}", code == 0 and mib <= 272 and not crashed(code, err))


def case_s36_zero_tail():
    """Session 36: a JSON Lines file (mapped, a regular file) whose tail is
    zeros, as a crash on ext4 or a preallocated log leaves it: line 4 is
    no record from its first byte, but the run read the whole file first,
    1 GB resident at `--memory-limit 64M` (7-14 s); a sparse file of 1 TB
    never ended. It stops at the first bad line, as a stream does (s35-endless)."""
    with set_up() as d:
        head = b"".join(open(os.path.join(d, "r.jsonl"), "rb").readlines()[:3])
        for name, size, line in [("tail.jsonl", 1 << 30, 4), ("sparse.jsonl", 1 << 40, 1)]:
            with open(os.path.join(d, name), "wb") as f:
                if line > 1:
                    f.write(head)
                f.truncate(size)
            for limit in [[], ["--memory-limit", "64M", "--tmp-dir", d]]:
                for args in [["scan", "-q"], ["clean", "-q", "-o", "o.jsonl"]]:
                    start = time.time()
                    try:
                        code, mib, err = peak_rss(args[:2] + limit + [name] + args[2:], d, timeout=120)
                    except subprocess.TimeoutExpired:
                        code, mib, err = "hung", -1, ""
                    took = time.time() - start
                    made = os.path.exists(os.path.join(d, "o.jsonl"))
                    ok = code == 2 and f"{name}:{line}: invalid JSON at column 1" in err and took < 20 and 0 <= mib < 200 and not made
                    row(f"s36-zero-tail: {name} ({size >> 20} MiB, zeros from line {line}), {args[0]} {' '.join(limit[:2])}", f"neardup {args[0]} {' '.join(limit[:2])} {name}",
                        f"exit 2 at once naming line {line}; under 200 MiB; no output", f"exit {code} after {took:.1f}s; peak {mib} MiB; {short(err, 70)}", ok)
                    if made:
                        os.remove(os.path.join(d, "o.jsonl"))
            os.remove(os.path.join(d, name))


def case_s36_keep_time():
    """Session 36: `--keep newest:FIELD` with the sentinel date `9999-12-31`
    (a common "no end" value) and `9999-12-31T23:59:59Z`: past the end of
    jiff's Timestamp (9999-12-30T22:00Z) they ranked as text, below every
    time, so `2024-05-01` was kept as the newest."""
    with tempfile.TemporaryDirectory() as d:
        t = words(60, seed=1)
        for late in ["9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T12:00:00"]:
            with open(os.path.join(d, "k.jsonl"), "w") as f:
                f.write(json.dumps({"id": "old", "text": t, "ts": "2024-05-01"}) + "\n")
                f.write(json.dumps({"id": "late", "text": t, "ts": late}) + "\n")
                f.write(json.dumps({"id": "older", "text": t, "ts": "1999-01-01T00:00:00Z"}) + "\n")
            for limit in [["-j", "1"], ["-j", "2"]]:
                code, out, err = nd(["scan", "-q", "--json", "--keep", "newest:ts", *limit, "k.jsonl"], d)
                try:
                    kept = json.loads(out)["near_duplicates"]["cluster_list"][0]["kept"]["id"]
                except (ValueError, KeyError, IndexError):
                    kept = None
                row(f"s36-keep-time: newest of 2024-05-01, {late}, 1999 {' '.join(limit[:2])}", f"neardup scan --json --keep newest:ts {' '.join(limit[:2])} k.jsonl",
                    f"exit 0; {late} kept", f"exit {code}; kept {kept}; {short(err, 60)}", code == 0 and kept == "late")


def main():
    global B
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--only", default="")
    ap.add_argument("--heavy", action="store_true")
    args = ap.parse_args()
    B = os.path.abspath(args.binary)
    print("| case | command | expected | got | verdict |\n|---|---|---|---|---|")
    for name, fn in [
        ("aliases", case_aliases),
        ("targets", case_targets),
        ("disk", case_disk_full),
        ("ulimit", case_file_size_limit),
        ("signals", case_signals),
        ("truncate", case_truncate),
        ("json", case_json),
        ("names", case_names),
        ("threads", case_threads),
        ("index", case_index_crafted),
        ("stdout", case_stdout),
        ("more", case_more_writes),
        ("inputs", lambda: case_inputs(args.heavy)),
        ("bombs", lambda: case_bombs(args.heavy)),
        ("s17-stdin", case_stdin),
        ("s17-paths", case_paths),
        ("s17-readonly", case_readonly),
        ("s17-compressed", case_compressed),
        ("s17-messages", case_messages),
        ("s17-flags", case_flags),
        ("s17-kill", case_kill_out_dir),
        ("s18-walk", case_s18_walk),
        ("s18-tmp", case_s18_tmp),
        ("s18-many", case_s18_many),
        ("s18-parquet", case_s18_parquet),
        ("s20-pipes", case_s20_pipes),
        ("s20-signals", case_s20_signals),
        ("s20-flags", case_s20_flags),
        ("s20-records", case_s20_records),
        ("s20-summary", case_s20_summary),
        ("s20-parents", case_s20_parents),
        ("s21-names", case_s21_names),
        ("s21-zstd", case_s21_zstd),
        ("s21-gzip", case_s21_gzip),
        ("s21-encodings", case_s21_encodings),
        ("s21-ulimit-v", case_s21_ulimit_v),
        ("s21-stdout", case_s21_closed_stdout),
        ("s21-concurrent", case_s21_concurrent),
        ("s21-limits", case_s21_limits),
        ("s21-index", case_s21_index),
        ("s22-stderr", case_s22_stderr),
        ("s22-lock", case_s22_lock),
        ("s22-ulimit-v", case_s22_ulimit_v),
        ("s22-ids", case_s22_ids),
        ("s22-tiny", case_s22_tiny),
        ("s28-tiny-index", case_s28_tiny_index),
        ("s22-special", case_s22_special),
        ("s23-parquet", case_s23_parquet),
        ("s23-trees", case_s23_trees),
        ("s23-json", case_s23_json),
        ("s23-names", case_s23_names),
        ("s23-resident", case_s23_resident),
        ("s23-dirs", case_s23_dirs),
        ("s24-archives", case_s24_archives),
        ("s24-merge", case_s24_merge),
        ("s24-html", case_s24_html),
        ("s24-parquet-ids", case_s24_parquet_ids),
        ("s24-python", case_s24_python),
        ("s25-flags", case_s25_flags),
        ("s25-check", case_s25_check),
        ("s25-changing", case_s25_changing),
        ("s25-concurrent", case_s25_concurrent),
        ("s25-tmp", case_s25_tmp),
        ("s25-records", case_s25_records),
        ("s25-paths", case_s25_paths),
        ("s28-crafted", case_s28_crafted),
        ("s28-merge", case_s28_merge),
        ("s28-late", case_s28_late),
        ("s28-kill", case_s28_kill),
        ("s28-memory", lambda: case_s28_memory() if args.heavy else row("s28-memory", "", "", "skipped (--heavy)", True)),
        ("s29-keys", case_s29_keys),
        ("s29-bidi", case_s29_bidi),
        ("s29-lines", case_s29_lines),
        ("s29-out-dir", case_s29_out_dir),
        ("s29-compressed", case_s29_compressed),
        ("s29-truncated", case_s29_truncated),
        ("s29-signals", case_s29_signals),
        ("s29-merge-memory", case_s29_merge_memory),
        ("s30-merge", case_s30_merge),
        ("s30-empty-index", case_s30_empty_index),
        ("s30-hamming", case_s30_hamming),
        ("s30-paths", case_s30_paths),
        ("s30-parquet-out", case_s30_parquet_out),
        ("s30-banded-memory", case_s30_banded_memory),
        ("s31-lines-html", case_s31_lines_html),
        ("s31-lines", case_s31_lines),
        ("s31-writes", case_s31_writes),
        ("s31-flags", case_s31_flags),
        ("s31-flood", case_s31_flood),
        ("s32-disk", case_s32_disk),
        ("s32-memory", case_s32_memory),
        ("s32-tiny", case_s32_tiny),
        ("s32-paths", case_s32_paths),
        ("s33-sweep", case_s33_sweep),
        ("s33-nonblocking", case_s33_nonblocking),
        ("s33-help", case_s33_help),
        ("s33-commit", case_s33_commit),
        ("s34-readonly", case_s34_readonly),
        ("s34-padding", case_s34_padding),
        ("s34-glob", case_s34_glob),
        ("s34-check-pipe", case_s34_check_pipe),
        ("s35-stack", case_s35_stack),
        ("s35-endless", case_s35_endless),
        ("s35-empty-parquet", case_s35_empty_parquet),
        ("s35-nfkc", case_s35_nfkc),
        ("s36-zero-tail", case_s36_zero_tail),
        ("s36-keep-time", case_s36_keep_time),
    ]:
        if args.only in name:
            try:
                fn()
            except Exception as e:  # a harness failure is a row too
                row(f"{name}: harness", "", "", f"{type(e).__name__}: {e}", False)
    print(f"\n{len(ROWS)} cases, {len(FAILED)} failed: {FAILED}", file=sys.stderr)


if __name__ == "__main__":
    main()
