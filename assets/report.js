// neardup's HTML report: draws the page from the JSON report embedded above
// (the same document `--json` writes) and the texts of the documents it shows.
// Everything taken from the report is set as text, never parsed as markup.
"use strict";
(function () {
  const started = performance.now();
  const R = JSON.parse(document.getElementById("report-data").textContent);
  const textsEl = document.getElementById("texts-data");
  const PAGE = 50;
  let TEXTS = null; // index -> text, once decoded
  let textsNote = "";

  // ---- helpers -------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return node;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const fmt = (n) => Number(n).toLocaleString("en-US");
  const pct = (part, whole) => (whole ? ((100 * part) / whole).toFixed(1) : "0.0") + "%";
  const lines = (l) => (l[0] === l[1] ? "line " + l[0] : "lines " + l[0] + "-" + l[1]);
  const name = (d) => (d.line !== undefined && d.line !== null ? d.id : d.path) + (d.indexed ? " (indexed)" : "");
  const where = (d) => (d.line !== undefined && d.line !== null ? d.path + ":" + d.line + " [" + d.id + "]" : d.path);
  const anchor = (doc, chars) => "d" + doc + "-c" + chars;
  const docLink = (d, text) => el("a", { href: "#d" + d.index }, text || name(d));
  const placeLink = (p, text) =>
    el("a", { href: "#" + anchor(p.document.index, p.chars[0]) }, text || name(p.document) + " " + lines(p.lines));

  // ---- the documents the page lists ------------------------------------------
  const refs = new Map(); // index -> DocRef, for every document the report names
  const entries = []; // listed: with repeats, or dropped as near duplicates
  const byIndex = new Map();
  const entry = (d) => {
    refs.set(d.index, d);
    let e = byIndex.get(d.index);
    if (!e) {
      e = { doc: d, report: null, dropped: null, share: 0 };
      byIndex.set(d.index, e);
      entries.push(e);
    }
    return e;
  };
  const incoming = new Map(); // index -> Map(chars start -> first copy and its repeats)
  /// The place a removal's text comes from: its first copy, or the blocks from
  /// it to `first_copy_last` when the text is spread over several.
  function sourceOf(r) {
    const f = r.first_copy, l = r.first_copy_last;
    return l ? { document: f.document, bytes: [f.bytes[0], l.bytes[1]], chars: [f.chars[0], l.chars[1]], lines: [f.lines[0], l.lines[1]] } : f;
  }
  function addIncoming(r) {
    const p = sourceOf(r);
    refs.set(p.document.index, p.document);
    let m = incoming.get(p.document.index);
    if (!m) incoming.set(p.document.index, (m = new Map()));
    let f = m.get(p.chars[0]);
    if (!f) m.set(p.chars[0], (f = { place: p, repeats: [] }));
    f.repeats.push(r.repeat);
  }
  for (const d of R.documents) {
    const e = entry(d.document);
    e.report = d;
    e.share = d.bytes ? d.removed_bytes / d.bytes : 0;
    for (const run of d.runs) {
      refs.set(run.source.index, run.source);
      run.removals.forEach(addIncoming);
    }
    d.short_repeats.forEach(addIncoming);
  }
  const near = R.near_duplicates;
  const clusters = near ? near.cluster_list : [];
  for (const c of clusters) {
    for (const m of c.members) {
      refs.set(m.document.index, m.document);
      if (!m.kept) {
        const e = entry(m.document);
        e.dropped = { cluster: c, member: m };
        e.share = 1;
      }
    }
  }
  entries.sort((a, b) => a.doc.index - b.doc.index);

  // ---- overview ----------------------------------------------------------------
  function table(head, rows, caption) {
    const t = el("table", {}, caption ? el("caption", { class: "sr", text: caption }) : null);
    t.append(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", class: h.num ? "num" : null, text: typeof h === "string" ? h : h.text })))));
    const body = el("tbody");
    for (const row of rows) {
      body.append(el("tr", {}, ...row.map((c, i) => el("td", { class: head[i].num ? "num" : null }, c))));
    }
    t.append(body);
    return t;
  }

  function overview() {
    const s = R.summary;
    const p = R.parameters;
    document.getElementById("subtitle").textContent =
      "neardup " + R.tool.version + " " + R.command + " over " + R.inputs.length + " input" +
      (R.inputs.length === 1 ? " (" + R.inputs[0].path + ")" : "s") + "; level " + p.level +
      ", blocks " + p.blocks + ", " + p.block_shingle + "-word shingles, containment >= " + p.block_threshold +
      ", seed " + p.seed;
    const body = document.getElementById("overview-body");
    body.replaceChildren();
    const cards = el("div", { class: "cards" });
    body.append(cards);

    // Totals.
    const totals = el("div", {}, el("h3", { text: "Totals" }));
    totals.append(table([{ text: "" }, { text: "count", num: true }, { text: "of", num: true }], [
      ["documents dropped as near duplicates", fmt(s.dropped_documents), fmt(s.documents)],
      ["documents with repeated blocks", fmt(s.documents_with_repeats), fmt(s.documents)],
      ["blocks removed as repeats", fmt(s.removed_blocks), fmt(s.blocks)],
      ["runs of repeated blocks", fmt(s.runs), ""],
      ["short repeats kept", fmt(s.short_repeats_kept), ""],
      ["bytes removed", fmt(s.removed_bytes) + " (" + pct(s.removed_bytes, s.bytes) + ")", fmt(s.bytes)],
    ], "Totals"));
    if (R.check) {
      totals.append(el("p", { text: "check: " + (R.check.passed ? "passed" : "FAILED") + " — " +
        R.check.measurements.map((m) => m.name + " " + (100 * m.share).toFixed(1) + "% (limit " + (100 * m.limit).toFixed(1) + "%, " + (m.passed ? "ok" : "over") + ")").join("; ") }));
    }
    if (R.skipped.length) totals.append(el("p", { class: "note", text: fmt(R.skipped.length) + " inputs or records skipped (see the JSON report)." }));
    if (R.index) totals.append(el("p", { class: "note", text: "Checked against " + R.index.role + " " + R.index.path + ": " + fmt(R.index.documents) + " documents from earlier runs." }));
    cards.append(totals);

    // Bytes removed by level.
    const levels = el("div", {}, el("h3", { text: "Bytes removed by level" }));
    const kept = s.bytes - s.removed_bytes;
    const bar = el("div", { class: "levels", role: "img", "aria-label": "dropped documents " + pct(s.dropped_document_bytes, s.bytes) + ", repeated blocks " + pct(s.removed_block_bytes, s.bytes) + ", kept " + pct(kept, s.bytes) });
    const part = (cls, n) => el("span", { class: cls, style: "width:" + (s.bytes ? (100 * n) / s.bytes : 0) + "%" });
    bar.append(part("l-docs", s.dropped_document_bytes), part("l-blocks", s.removed_block_bytes), part("l-kept", kept));
    levels.append(bar, table([{ text: "level" }, { text: "bytes", num: true }, { text: "share", num: true }], [
      [el("span", {}, el("span", { class: "swatch l-docs levels-swatch", style: "background:repeating-linear-gradient(45deg,#7a1f7a 0 3px,#b57ab5 3px 6px)" }), " documents dropped whole (striped)"), fmt(s.dropped_document_bytes), pct(s.dropped_document_bytes, s.bytes)],
      [el("span", {}, el("span", { class: "swatch", style: "background:#c98a00" }), " repeated blocks removed (solid)"), fmt(s.removed_block_bytes), pct(s.removed_block_bytes, s.bytes)],
      [el("span", {}, el("span", { class: "swatch", style: "background:#fff" }), " kept (white)"), fmt(kept), pct(kept, s.bytes)],
    ], "Bytes removed by level"));
    cards.append(levels);

    // Histogram of per-document duplication.
    const bins = new Array(12).fill(0); // 0: nothing removed, 1-10: (0,10%]..(90,100%], 11: dropped whole
    let listed = 0;
    for (const e of entries) {
      if (e.dropped && !(R.parameters.documents.annotate)) bins[11]++;
      else if (e.report) bins[Math.min(10, Math.max(1, Math.ceil(e.share * 10)))]++;
      else continue;
      listed++;
    }
    bins[0] = Math.max(0, s.documents - listed);
    const labels = ["0%", "≤10", "≤20", "≤30", "≤40", "≤50", "≤60", "≤70", "≤80", "≤90", "≤100", "drop"];
    const hist = el("div", {}, el("h3", { text: "Share of each document removed" }));
    hist.append(barChart(bins, labels, "documents by share of bytes removed"));
    hist.append(el("details", {}, el("summary", { text: "as a table" }),
      table([{ text: "share removed" }, { text: "documents", num: true }], bins.map((n, i) => [labels[i], fmt(n)]), "Documents by share removed")));
    cards.append(hist);

    // The S-curve.
    const curve = el("div", {}, el("h3", { text: "Chance a pair becomes a candidate (LSH)" }));
    if (near && near.candidate_probability.length) {
      curve.append(sCurve(near.candidate_probability, p.documents.threshold, p.documents));
      curve.append(el("details", {}, el("summary", { text: "as a table" }),
        table([{ text: "Jaccard", num: true }, { text: "probability", num: true }],
          near.candidate_probability.map((c) => [c.jaccard.toFixed(2), (100 * c.probability).toFixed(1) + "%"]), "S-curve")));
      curve.append(el("p", { class: "note", text: fmt(near.candidate_pairs) + " candidate pairs, " + fmt(near.verified_pairs) + " verified." }));
    } else if (near) {
      curve.append(el("p", { text: "SimHash, Hamming distance <= " + p.documents.hamming + ": no banding curve." }));
    } else {
      curve.append(el("p", { text: "No document level in this run (--level blocks)." }));
    }
    cards.append(curve);

    // Most syndicated blocks.
    const synd = el("div", {}, el("h3", { text: "Blocks shared by the most documents" }));
    const long = R.syndicated.filter((b) => !b.short);
    if (long.length) {
      synd.append(table([{ text: "documents", num: true }, { text: "copies", num: true }, { text: "first copy" }, { text: "text" }],
        long.slice(0, 20).map((b) => [fmt(b.documents), fmt(b.copies), placeLink(b.first_copy), el("span", { class: "synd-text", text: b.text })]), "Blocks shared by the most documents"));
      synd.append(el("p", { class: "note", text: "20 of " + fmt(long.length) + " shown; " + fmt(R.syndicated.length - long.length) + " short shared blocks (see the JSON report)." }));
    } else {
      synd.append(el("p", { text: "No block of " + p.min_words + " words or more is found in two documents." }));
    }
    body.append(synd);

    // Largest clusters.
    const cl = el("div", {}, el("h3", { text: "Largest near-duplicate clusters" }));
    const big = clusters.filter((c) => c.size > 1);
    if (big.length) {
      cl.append(table([{ text: "documents", num: true }, { text: "kept" }, { text: "dropped (similarity)" }],
        big.slice(0, 20).map((c) => {
          const others = el("span");
          c.members.filter((m) => !m.kept).slice(0, 6).forEach((m, i) => {
            if (i) others.append(", ");
            others.append(docLink(m.document), " (" + m.similarity.toFixed(2) + ")");
          });
          if (c.size - 1 > 6) others.append(", +" + fmt(c.size - 7) + " more");
          return [fmt(c.size), docLink(c.kept), others];
        }), "Largest near-duplicate clusters"));
      cl.append(el("p", { class: "note", text: Math.min(20, big.length) + " of " + fmt(big.length) + " clusters shown." }));
    } else {
      cl.append(el("p", { text: near ? "No near-duplicate documents." : "No document level in this run." }));
    }
    body.append(cl);
  }

  function barChart(values, labels, title) {
    const W = 360, H = 170, left = 8, bottom = 34, top = 16;
    const max = Math.max(1, ...values);
    const bw = (W - left) / values.length;
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": title });
    s.append(svg("title", {}, title));
    values.forEach((v, i) => {
      const h = ((H - bottom - top) * v) / max;
      const x = left + i * bw;
      const g = svg("g");
      g.append(svg("title", {}, labels[i] + ": " + fmt(v) + " documents"));
      g.append(svg("rect", { class: "bar", x: x + 2, y: H - bottom - h, width: bw - 4, height: Math.max(h, v ? 1 : 0) }));
      g.append(svg("text", { x: x + bw / 2, y: H - bottom - h - 3, "text-anchor": "middle" }, v ? fmt(v) : ""));
      g.append(svg("text", { x: x + bw / 2, y: H - bottom + 12, "text-anchor": "middle" }, labels[i]));
      s.append(g);
    });
    s.append(svg("line", { class: "axis", x1: left, x2: W, y1: H - bottom, y2: H - bottom }));
    return el("figure", {}, s, el("figcaption", { text: "Documents by the percentage of their bytes removed (0%: nothing; drop: near duplicates dropped whole)." }));
  }

  function sCurve(points, threshold, dp) {
    const W = 380, H = 200, l = 36, b = 30, t = 10, r = 56;
    const x = (j) => l + (W - l - r) * j;
    const y = (p) => H - b - (H - b - t) * p;
    const title = "S-curve of " + dp.bands + " bands x " + dp.rows + " rows; threshold " + threshold;
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": title });
    s.append(svg("title", {}, title));
    s.append(svg("line", { class: "axis", x1: l, x2: W - r, y1: y(0), y2: y(0) }));
    s.append(svg("line", { class: "axis", x1: l, x2: l, y1: y(0), y2: y(1) }));
    for (const v of [0, 0.5, 1]) {
      s.append(svg("text", { x: x(v), y: H - b + 14, "text-anchor": "middle" }, v.toFixed(1)));
      s.append(svg("text", { x: l - 4, y: y(v) + 4, "text-anchor": "end" }, (100 * v).toFixed(0) + "%"));
    }
    s.append(svg("text", { x: (l + W) / 2, y: H - 3, "text-anchor": "middle" }, "Jaccard similarity of a pair"));
    // The curve itself, 1 - (1 - J^rows)^bands, drawn finely; the report's points on it.
    const pts = [];
    if (dp.bands && dp.rows) {
      for (let i = 0; i <= 100; i++) {
        const j = i / 100;
        pts.push(x(j).toFixed(1) + "," + y(1 - Math.pow(1 - Math.pow(j, dp.rows), dp.bands)).toFixed(1));
      }
    } else {
      for (const c of points) pts.push(x(c.jaccard).toFixed(1) + "," + y(c.probability).toFixed(1));
    }
    s.append(svg("polyline", { class: "curve", points: pts.join(" ") }));
    for (const c of points) {
      const g = svg("circle", { cx: x(c.jaccard), cy: y(c.probability), r: 3, fill: "#0b4fa0" });
      g.append(svg("title", {}, "J=" + c.jaccard.toFixed(2) + ": " + (100 * c.probability).toFixed(1) + "%"));
      s.append(g);
    }
    s.append(svg("line", { class: "threshold", x1: x(threshold), x2: x(threshold), y1: y(0), y2: y(1) }));
    s.append(svg("text", { x: x(threshold) + 4, y: y(0.12), "text-anchor": "start" }, "threshold " + threshold));
    return el("figure", {}, s, el("figcaption", { text: "Probability that LSH banding makes a pair a candidate, by its similarity; the dashed line is --threshold (" + dp.measure + ")." }));
  }

  // ---- the list ----------------------------------------------------------------
  const q = document.getElementById("q");
  const kind = document.getElementById("kind");
  const minShare = document.getElementById("min-share");
  const order = document.getElementById("order");
  let filtered = entries;
  let page = 0;
  let current = null; // the index shown

  function applyFilters() {
    const needle = q.value.trim().toLowerCase();
    const min = (Number(minShare.value) || 0) / 100;
    filtered = entries.filter((e) =>
      (kind.value === "all" || (kind.value === "dropped" ? e.dropped : e.report)) &&
      e.share + 1e-9 >= min &&
      (!needle || e.doc.id.toLowerCase().includes(needle) || e.doc.path.toLowerCase().includes(needle)));
    if (order.value === "share") filtered = filtered.slice().sort((a, b) => b.share - a.share || a.doc.index - b.doc.index);
    page = 0;
    drawList();
  }

  function drawList() {
    const list = document.getElementById("list");
    const pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    const ol = el("ol");
    for (const e of filtered.slice(page * PAGE, page * PAGE + PAGE)) {
      const what = e.dropped ? "dropped, similarity " + e.dropped.member.similarity.toFixed(2) : pct(e.report.removed_bytes, e.report.bytes) + " removed";
      ol.append(el("li", {}, el("a", { href: "#d" + e.doc.index, "aria-current": e.doc.index === current ? "true" : null, "data-index": e.doc.index },
        name(e.doc), el("span", { class: "meta", text: what + (e.doc.line ? " · " + e.doc.path + ":" + e.doc.line : "") }))));
    }
    const pager = el("div", { class: "pager" },
      el("button", { type: "button", id: "prev-page", disabled: page === 0 }, "◀ Previous"),
      el("span", { "aria-live": "polite", text: "page " + (page + 1) + " of " + pages + " (" + fmt(filtered.length) + " documents)" }),
      el("button", { type: "button", id: "next-page", disabled: page + 1 >= pages }, "Next ▶"));
    pager.querySelector("#prev-page").onclick = () => { page--; drawList(); };
    pager.querySelector("#next-page").onclick = () => { page++; drawList(); };
    list.replaceChildren(pager, filtered.length ? ol : el("p", { text: "No document matches." }));
  }

  // ---- a document --------------------------------------------------------------
  /// Code point offsets to string (UTF-16) offsets.
  function unitsOf(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return (c) => c;
    const at = [];
    for (let i = 0; i < text.length; i++) {
      at.push(i);
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00) i++;
    }
    at.push(text.length);
    return (c) => at[Math.min(c, at.length - 1)];
  }
  function lineStarts(text) {
    const starts = [0];
    const re = /\r\n|\n|\r/g;
    let m;
    while ((m = re.exec(text))) starts.push(m.index + m[0].length);
    return starts;
  }

  function legend() {
    return el("ul", { class: "legend", "aria-label": "Legend" },
      el("li", {}, el("mark", { class: "exact" }, el("span", { class: "label", text: "exact" }), "removed, exact repeat (solid bar)")),
      el("li", {}, el("mark", { class: "near" }, el("span", { class: "label", text: "near" }), "removed, near repeat (dashed underline)")),
      el("li", {}, el("mark", { class: "short" }, el("span", { class: "label", text: "short" }), "short repeat, kept (dotted box)")),
      el("li", {}, el("span", { class: "label", style: "color:var(--run-edge)", text: "run" }), "run of repeats (double bar at left)"),
      el("li", {}, el("span", { class: "gap", style: "display:inline" }, el("span", { class: "label", text: "kept" }), "interruption inside a run (dashed box)")),
      el("li", {}, el("span", { class: "first" }, el("span", { class: "label", text: "first copy" }), "repeated later (underlined)")));
  }

  function markedText(index, text, report) {
    const cu = unitsOf(text);
    const starts = lineStarts(text);
    const lineSpan = (l) => [starts[l[0] - 1] ?? text.length, starts[l[1]] ?? text.length];
    const runs = [];
    const loose = [];
    (report ? report.runs : []).forEach((run, n) => {
      const inner = [];
      for (const r of run.removals) {
        inner.push({ a: cu(r.repeat.chars[0]), b: cu(r.repeat.chars[1]), kind: r.exact ? "exact" : "near", r });
      }
      for (const g of run.interruptions) {
        const [a, b] = lineSpan(g.lines);
        inner.push({ a, b, kind: "gap", g });
      }
      inner.sort((x, y) => x.a - y.a);
      runs.push({ a: Math.min(...inner.map((i) => i.a)), b: Math.max(...inner.map((i) => i.b)), kind: "run", run, n, inner });
    });
    for (const r of report ? report.short_repeats : []) {
      loose.push({ a: cu(r.repeat.chars[0]), b: cu(r.repeat.chars[1]), kind: "short", r });
    }
    for (const f of (incoming.get(index) || new Map()).values()) {
      loose.push({ a: cu(f.place.chars[0]), b: cu(f.place.chars[1]), kind: "first", f });
    }
    const top = runs.slice();
    for (const o of loose) {
      const run = runs.find((r) => o.a >= r.a && o.b <= r.b);
      if (run) run.inner.push(o);
      else top.push(o);
    }
    for (const r of runs) r.inner.sort((x, y) => x.a - y.a || y.b - x.b);
    top.sort((x, y) => x.a - y.a || y.b - x.b);
    const pre = el("div", { class: "text", lang: "" });
    emit(pre, top, 0, text.length);
    return pre;

    function emit(into, items, from, to) {
      let pos = from;
      for (const it of items) {
        if (it.a < pos) {
          // A first copy that is also an interruption gets its anchor on the interruption.
          if (it.kind === "first" && !document.getElementById(anchor(index, it.f.place.chars[0]))) {
            const host = into.lastElementChild;
            if (host) host.id = anchor(index, it.f.place.chars[0]);
          }
          continue;
        }
        if (it.a > pos) into.append(text.slice(pos, it.a));
        into.append(node(it));
        pos = it.b;
      }
      if (pos < to) into.append(text.slice(pos, to));
    }

    function node(it) {
      const body = () => text.slice(it.a, it.b);
      if (it.kind === "run") {
        const run = it.run;
        const from = run.source.index === index ? "" : name(run.source) + " ";
        const sim = run.exact ? "exact" : "similarity " + run.similarity.min.toFixed(2) + " to " + Math.max(...run.removals.map((r) => r.similarity)).toFixed(2);
        const div = el("div", { class: "run", id: "run-" + index + "-" + it.n, "data-lines": run.lines.join("-"), "data-source": run.source.index, "data-source-lines": run.source_lines.join("-") },
          el("a", { class: "label run-label", href: "#" + anchor(run.removals[0].aligned_with.document.index, run.removals[0].aligned_with.chars[0]) },
            "run: " + lines(run.lines) + " repeat " + from + lines(run.source_lines) + " (" + run.blocks + " blocks, " + sim + ")"), "\n");
        const inner = it.inner;
        // The run's own text: from its first item to its last.
        let pos = it.a;
        for (const x of inner) {
          if (x.a < pos) continue;
          if (x.a > pos) div.append(text.slice(pos, x.a));
          div.append(node(x));
          pos = x.b;
        }
        if (pos < it.b) div.append(text.slice(pos, it.b));
        return div;
      }
      if (it.kind === "gap") {
        return el("span", { class: "gap", "data-lines": it.g.lines.join("-") },
          el("span", { class: "label", text: "kept: " + lines(it.g.lines) + " inside the run are not repeated" }), body());
      }
      if (it.kind === "first") {
        const f = it.f;
        const span = el("span", { class: "first", id: anchor(index, f.place.chars[0]), "data-lines": f.place.lines.join("-") },
          el("span", { class: "label", text: "first copy, repeated " + f.repeats.length + "×" }));
        span.append(body());
        return span;
      }
      const r = it.r;
      const label = it.kind === "exact" ? "exact repeat" : it.kind === "near" ? "near repeat " + r.similarity.toFixed(2) : "short repeat, kept";
      const fc = sourceOf(r);
      const of = (fc.document.index === index ? "" : name(fc.document) + " ") + lines(fc.lines);
      return el("mark", { class: it.kind, id: anchor(index, r.repeat.chars[0]), "data-lines": r.repeat.lines.join("-"), "data-first": anchor(fc.document.index, fc.chars[0]), "data-removed": String(r.removed) },
        el("a", { class: "label", href: "#" + anchor(fc.document.index, fc.chars[0]), title: "go to the first copy" }, label + " of " + of), body());
    }
  }

  /// A word-level diff: words of `a` not in `b` (deleted), of `b` not in `a` (inserted).
  function wordDiff(a, b) {
    const split = (t) => t.match(/\s*\S+\s*|\s+/g) || [];
    const A = split(a), B = split(b);
    const key = (w) => w.trim();
    let pre = 0;
    while (pre < A.length && pre < B.length && key(A[pre]) === key(B[pre])) pre++;
    let suf = 0;
    while (suf < A.length - pre && suf < B.length - pre && key(A[A.length - 1 - suf]) === key(B[B.length - 1 - suf])) suf++;
    const a0 = A.slice(pre, A.length - suf), b0 = B.slice(pre, B.length - suf);
    const n = a0.length, m = b0.length;
    const ops = []; // [kind, word]: 0 same, -1 only in a, 1 only in b
    for (let i = 0; i < pre; i++) ops.push([0, A[i], B[i]]);
    let exact = true;
    if (n * m <= 4e6) {
      // Longest common subsequence of the middle, by dynamic programming.
      const L = new Uint16Array((n + 1) * (m + 1));
      for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
          L[i * (m + 1) + j] = key(a0[i]) === key(b0[j]) ? L[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(L[(i + 1) * (m + 1) + j], L[i * (m + 1) + j + 1]);
        }
      }
      let i = 0, j = 0;
      while (i < n && j < m) {
        if (key(a0[i]) === key(b0[j])) { ops.push([0, a0[i], b0[j]]); i++; j++; }
        else if (L[(i + 1) * (m + 1) + j] >= L[i * (m + 1) + j + 1]) ops.push([-1, a0[i++]]);
        else ops.push([1, b0[j++]]);
      }
      while (i < n) ops.push([-1, a0[i++]]);
      while (j < m) ops.push([1, b0[j++]]);
    } else {
      // Too long to align: words missing from the other side.
      exact = false;
      const count = (ws) => { const c = new Map(); for (const w of ws) c.set(key(w), (c.get(key(w)) || 0) + 1); return c; };
      const ca = count(b0), cb = count(a0);
      for (const w of a0) { const k = key(w); if (ca.get(k)) { ca.set(k, ca.get(k) - 1); ops.push([0, w, ""]); } else ops.push([-1, w]); }
      for (const w of b0) { const k = key(w); if (cb.get(k)) { cb.set(k, cb.get(k) - 1); ops.push([0, "", w]); } else ops.push([1, w]); }
    }
    for (let i = A.length - suf; i < A.length; i++) ops.push([0, A[i], B[i - A.length + B.length]]);
    const left = el("div", { class: "text" }), right = el("div", { class: "text" });
    for (const [k, x, y] of ops) {
      if (k === 0) { if (x) left.append(x); if (y !== undefined && y) right.append(y); }
      else if (k < 0) left.append(el("del", { text: x }));
      else right.append(el("ins", { text: x }));
    }
    return { left, right, exact };
  }

  function showDocument(index) {
    current = index;
    const box = document.getElementById("doc");
    const e = byIndex.get(index);
    const d = refs.get(index) || (e && e.doc);
    if (!d) {
      box.replaceChildren(el("p", { text: "The report names no document " + index + "." }));
      return;
    }
    const text = TEXTS ? TEXTS[index] : undefined;
    const head = el("h3", { id: "doc-title", tabindex: "-1" }, name(d));
    const parts = [head, el("p", { class: "note", text: where(d) + (d.indexed ? " — in the index; its text is not held" : "") })];
    if (e && e.report) {
      const rep = e.report;
      parts.push(el("p", { text: fmt(rep.removed_blocks) + " of " + fmt(rep.blocks) + " blocks removed as repeats of earlier text, " + fmt(rep.removed_bytes) + " of " + fmt(rep.bytes) + " bytes (" + pct(rep.removed_bytes, rep.bytes) + ")." }));
      const ul = el("ul");
      for (const run of rep.runs) {
        const li = el("li", {}, lines(run.lines) + " repeat ",
          el("a", { href: "#" + anchor(run.removals[0].aligned_with.document.index, run.removals[0].aligned_with.chars[0]) }, (run.source.index === index ? "" : name(run.source) + " ") + lines(run.source_lines)),
          ": " + run.blocks + " blocks, " + fmt(run.bytes) + " bytes, " + (run.exact ? "exact" : "similarity " + run.similarity.min.toFixed(2) + "+ (mean " + run.similarity.mean.toFixed(2) + ")"));
        for (const g of run.interruptions) li.append(el("div", { text: lines(g.lines) + " inside the run " + (g.lines[0] === g.lines[1] ? "is" : "are") + " not repeated (" + g.blocks + " blocks, kept)" }));
        ul.append(li);
      }
      if (rep.short_repeats.length) ul.append(el("li", { text: rep.short_repeats.length + " short blocks repeat earlier text and are kept" }));
      parts.push(ul);
    }
    let diffShown = false;
    if (e && e.dropped) {
      const { cluster, member } = e.dropped;
      const other = cluster.representative.index === index ? cluster.kept : cluster.representative;
      parts.push(el("p", {}, "Dropped as a near duplicate of ", docLink(other), " (" + R.parameters.documents.measure + " " + member.similarity.toFixed(2) + "; cluster of " + cluster.size + ", keeps ", docLink(cluster.kept), ")."));
      const otherText = TEXTS ? TEXTS[other.index] : undefined;
      if (text !== undefined && otherText !== undefined) {
        diffShown = true;
        const diff = wordDiff(otherText, text);
        const role = other.index === cluster.representative.index ? "Representative: " : "Kept: ";
        parts.push(el("div", { class: "diff" },
          el("div", {}, el("h4", {}, role, docLink(other), " (words only there struck out)"), diff.left),
          el("div", {}, el("h4", { text: "This document, dropped (words only here underlined)" }), diff.right)));
        if (!diff.exact) parts.push(el("p", { class: "note", text: "Too long to align word by word: marked words are those missing from the other document." }));
      } else if (text !== undefined) {
        parts.push(el("p", { class: "note", text: "No word diff: the report holds no text of " + name(other) + (other.indexed ? " (an indexed document's text is not kept)." : ".") }));
      }
    }
    if (text !== undefined) {
      if (!diffShown) {
        parts.push(legend(), markedText(index, text, e && e.report));
      }
    } else {
      parts.push(el("p", { class: "note", text: textsNote || "Loading the text…" }));
    }
    box.replaceChildren(...parts);
    // Keep the list's selection in view.
    const pos = filtered.findIndex((f) => f.doc.index === index);
    if (pos >= 0 && Math.floor(pos / PAGE) !== page) page = Math.floor(pos / PAGE);
    drawList();
  }

  // ---- navigation ----------------------------------------------------------------
  function route() {
    const m = /^#d(\d+)(?:-c(\d+))?$/.exec(location.hash);
    if (!m) return false;
    const index = Number(m[1]);
    if (index !== current || !document.getElementById("doc-title")) showDocument(index);
    const target = document.getElementById(m[2] !== undefined ? location.hash.slice(1) : "doc-title");
    if (target) {
      target.scrollIntoView({ block: "center" });
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
    return true;
  }
  window.addEventListener("hashchange", route);
  for (const input of [q, kind, minShare, order]) input.addEventListener("input", applyFilters);

  function step(delta) {
    if (!filtered.length) return;
    const pos = filtered.findIndex((f) => f.doc.index === current);
    const next = Math.min(filtered.length - 1, Math.max(0, pos < 0 ? 0 : pos + delta));
    location.hash = "#d" + filtered[next].doc.index;
  }
  let hit = -1;
  function nextHit(delta) {
    const hits = [...document.querySelectorAll("#doc mark, #doc .gap, #doc del, #doc ins")];
    if (!hits.length) return;
    document.querySelectorAll(".current-hit").forEach((h) => h.classList.remove("current-hit"));
    hit = (hit + delta + hits.length) % hits.length;
    hits[hit].classList.add("current-hit");
    hits[hit].scrollIntoView({ block: "center" });
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const keys = {
      "/": () => q.focus(),
      j: () => step(1),
      k: () => step(-1),
      n: () => nextHit(1),
      p: () => nextHit(-1),
      "]": () => { page++; drawList(); },
      "[": () => { page--; drawList(); },
      o: () => document.getElementById("overview").focus(),
    };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });

  async function loadTexts() {
    const b64 = textsEl.textContent.trim();
    if (!b64) {
      textsNote = "This report holds no document texts (a run in chunks keeps none): the lists and links above are all there is.";
      return {};
    }
    if (typeof DecompressionStream === "undefined") {
      textsNote = "This browser cannot decompress the texts held in the report (it lacks DecompressionStream).";
      return {};
    }
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const texts = JSON.parse(await new Response(stream).text());
    textsNote = "The report holds no text for this document.";
    return texts;
  }

  overview();
  applyFilters();
  const first = entries.length ? entries[0].doc.index : null;
  if (!route() && first !== null) showDocument(first);
  if (first === null && !location.hash) document.getElementById("doc").replaceChildren(el("p", { text: "No document has repeats or near duplicates." }));
  loadTexts()
    .catch((err) => { textsNote = "The texts could not be read: " + err; return {}; })
    .then((texts) => {
      TEXTS = texts;
      if (current !== null) showDocument(current);
      if (location.hash) route();
      document.documentElement.dataset.state = "ready";
      document.documentElement.dataset.renderMs = Math.round(performance.now() - started);
    });
})();
