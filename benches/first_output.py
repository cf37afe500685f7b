#!/usr/bin/env python3
"""Time until a command's first output, and until its end.

    python3 benches/first_output.py [--stdin FILE] [--stop] [--out FILE] -- CMD...

Runs CMD (with FILE piped to its standard input through `cat`, when given) and
prints the seconds until its standard output gives its first bytes and until
it ends, and how many bytes it wrote (kept in --out FILE when given). With
--stop the command is killed once its first output arrives (for inputs whose
full run takes minutes).
"""
import argparse
import subprocess
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdin")
    parser.add_argument("--stop", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    started = time.time()
    cat = subprocess.Popen(["cat", args.stdin], stdout=subprocess.PIPE) if args.stdin else None
    proc = subprocess.Popen(
        cmd,
        stdin=cat.stdout if cat else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    first = None
    written = 0
    out = open(args.out, "wb") if args.out else None
    while True:
        piece = proc.stdout.read1(1 << 20)
        if not piece:
            break
        if first is None:
            first = time.time() - started
            if args.stop:
                written += len(piece)
                proc.kill()
                break
        written += len(piece)
        if out:
            out.write(piece)
    proc.wait()
    if cat:
        cat.kill()
        cat.wait()
    end = time.time() - started
    first_text = "no output" if first is None else f"first output after {first:.2f} s"
    print(f"{first_text}, end after {end:.2f} s, {written} bytes, exit {proc.returncode}")


if __name__ == "__main__":
    main()
