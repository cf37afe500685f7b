#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (--remote-debugging-pipe,
no network, no package beyond Python's standard library) to open neardup's
HTML reports.

  html.py check-seed REPORT.html            the seed article's highlights, from the DOM
  html.py time REPORT.html [RUNS]           seconds from navigation to the page drawn
  html.py screenshot REPORT.html OUT.png [WIDTH HEIGHT] [HASH]

Exits 1 with a message when a check fails.
"""
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import pathlib


class Chromium:
    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            sys.exit("html.py: chromium is not installed (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="neardup-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4.
        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-extensions",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4, to_child_r, from_child_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def call(self, method, params=None, session=False):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.from_child, 1 << 20)
                if not chunk:
                    sys.exit("html.py: chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    sys.exit(f"html.py: {method}: {reply['error']}")
                return reply["result"]

    def eval(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            sys.exit(f"html.py: {expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, path, hash_=""):
        """Opens the report; returns seconds until its script says it is drawn."""
        url = pathlib.Path(path).resolve().as_uri() + hash_
        self.call("Page.navigate", {"url": "about:blank"}, session=True)
        start = time.perf_counter()
        self.call("Page.navigate", {"url": url}, session=True)
        while self.eval("(document.documentElement && document.documentElement.dataset.state) || ''") != "ready":
            if time.perf_counter() - start > 60:
                sys.exit(f"html.py: {path} was not drawn within 60 s")
            time.sleep(0.01)
        return time.perf_counter() - start

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# What the seed article's page must show, read from its DOM.
SEED_DOM = """(() => {
  const run = document.querySelector('#doc .run');
  const marks = [...document.querySelectorAll('#doc .text mark')].map(m => ({
    kind: m.className, lines: m.dataset.lines, first: m.dataset.first,
    link: m.querySelector('a.label') && m.querySelector('a.label').getAttribute('href'),
    target: !!document.getElementById(m.dataset.first),
    targetLines: document.getElementById(m.dataset.first) && document.getElementById(m.dataset.first).dataset.lines,
    inRun: run ? run.contains(m) : false }));
  const gaps = [...document.querySelectorAll('#doc .text .gap')].map(g => ({ lines: g.dataset.lines, text: g.textContent, inRun: run ? run.contains(g) : false }));
  return { run: run && { lines: run.dataset.lines, source: run.dataset.sourceLines }, marks, gaps,
    external: [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('#')) };
})()"""


def check_seed(path):
    chrome = Chromium()
    try:
        chrome.open(path)
        dom = chrome.eval(SEED_DOM)
    finally:
        chrome.close()
    problems = []
    if not dom["run"] or dom["run"] != {"lines": "17-32", "source": "3-16"}:
        problems.append(f"the run is {dom['run']}, not lines 17-32 repeating lines 3-16")
    marked = sorted(int(m["lines"].split("-")[0]) for m in dom["marks"] if m["kind"] in ("exact", "near"))
    want = [17] + list(range(20, 33))
    if marked != want:
        problems.append(f"highlighted lines {marked}, expected {want}")
    for m in dom["marks"]:
        source = int(m["targetLines"].split("-")[0]) if m["targetLines"] else None
        if not m["inRun"] or not m["target"] or m["link"] != "#" + m["first"] or not source or not 3 <= source <= 16:
            problems.append(f"mark {m} is not in the run linked to a first copy in lines 3-16")
    if [g["lines"] for g in dom["gaps"]] != ["18-19"] or not dom["gaps"][0]["inRun"]:
        problems.append(f"the interruptions are {dom['gaps']}, expected lines 18-19 inside the run")
    elif "@SecDef" not in dom["gaps"][0]["text"]:
        problems.append(f"the interruption does not hold the tweet: {dom['gaps'][0]['text'][:120]!r}")
    if dom["external"]:
        problems.append(f"links or sources outside the page: {dom['external']}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{path}: lines 17-32 highlighted as one run ({len(marked)} blocks), each linked to its "
          "first copy in lines 3-16; lines 18-19 (the tweet) kept, unmarked, inside the run")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "check-seed":
        check_seed(path)
    elif cmd == "time":
        runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
        chrome = Chromium()
        try:
            times = [chrome.open(path) for _ in range(runs)]
            drawn_ms = chrome.eval("document.documentElement.dataset.renderMs")
        finally:
            chrome.close()
        print(f"{path}: drawn in {statistics.median(times):.3f} s median of {runs} "
              f"(min {min(times):.3f}, max {max(times):.3f}; script's own count {drawn_ms} ms last run)")
    elif cmd == "screenshot":
        out = sys.argv[3]
        width, height = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (1280, 1600)
        hash_ = sys.argv[6] if len(sys.argv) > 6 else ""
        chrome = Chromium()
        try:
            chrome.call("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
            chrome.open(path, hash_)
            if hash_:
                time.sleep(0.2)
            shot = chrome.call("Page.captureScreenshot", {"format": "png"}, session=True)
        finally:
            chrome.close()
        pathlib.Path(out).write_bytes(base64.b64decode(shot["data"]))
        print(f"wrote {out}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
