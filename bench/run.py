"""Benchmark driver: for each size, generate a round (once), then in one run
side by side: `taizhang reconcile`, the calamine read floor, Splink and
recordlinkage, each under /usr/bin/time -v (wall time, peak RSS), peers
capped by a timeout. Scores every tool's links against truth.csv and writes
results/<size>.json plus a markdown table (results/summary.md).

Usage (from the repo root, via bench/run.sh):
  python bench/run.py [--sizes 2000,30000] [--timeout 1800] [--peers splink,recordlinkage] [--hard]
                     [--previous PATH_TO_AN_OLDER_TAIZHANG] [--csv]

--previous runs an older taizhang binary right before the current one on the
same inputs (tool "taizhang (previous)"), so the two are compared in one run.
--csv generates csv inputs at every size (by default xlsx up to 300,000).
"""

import argparse
import csv
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
TZ = os.path.join(ROOT, "target", "release", "taizhang")
GEN = os.path.join(ROOT, "target", "release", "examples", "gen_round")
READ = os.path.join(ROOT, "target", "release", "examples", "bench_read")
PY = sys.executable


def timed(cmd, timeout=None, env=None):
    """Run cmd under /usr/bin/time -v; returns dict(wall_s, rss_mb, rc, timed_out, stderr)."""
    tf = os.path.join(BENCH, "results", ".time.txt")
    full = ["/usr/bin/time", "-v", "-o", tf] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return {"timed_out": True, "wall_s": time.perf_counter() - t0, "rc": None}
    wall = time.perf_counter() - t0
    txt = open(tf).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    w = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", txt)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", txt))
    el = w.group(1).split(":") if w else []
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(el))) if el else wall
    return {
        "timed_out": False,
        "wall_s": secs,
        "cpu_s": cpu,
        "rss_mb": int(m.group(1)) / 1024 if m else None,
        "rc": p.returncode,
        "stdout": out.decode(errors="replace")[-2000:],
        "stderr": err.decode(errors="replace")[-2000:],
        "stderr_full": err.decode(errors="replace"),
    }


def load_truth(d):
    truth = {}
    with open(os.path.join(d, "truth.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (r["survey_file"], int(r["survey_row"]))
            truth[key] = {
                "roster": int(r["roster_row"]) if r["roster_row"] else None,
                "damaged_id": r["damaged_id"] == "1",
                "not_in_roster": r["not_in_roster"] == "1",
                "twin": r["twin"] == "1",
                "twin_roster": int(r["twin_roster_row"]) if r["twin_roster_row"] else None,
                "hard": r.get("hard", ""),
            }
    return truth


def score(truth, links):
    """links: {(survey_file, survey_row): roster_row} (one per survey row)."""
    subsets = {
        "overall": lambda t: True,
        "damaged_id": lambda t: t["damaged_id"],
        "twin": lambda t: t["twin"],
        "not_in_roster": lambda t: t["not_in_roster"],
    }
    # The hard cases of `gen_round --hard`, one subset per kind present.
    for kind in sorted({t["hard"] for t in truth.values() if t["hard"]}):
        subsets["hard:" + kind] = lambda t, k=kind: t["hard"] == k
    res = {}
    for name, keep in subsets.items():
        tp = fp = fn = 0
        rows = 0
        for key, t in truth.items():
            if not keep(t):
                continue
            rows += 1
            got = links.get(key)
            if got is not None and got == t["roster"]:
                tp += 1
            else:
                if got is not None:
                    fp += 1
                if t["roster"] is not None:
                    fn += 1
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        f1 = 2 * p * r / (p + r) if p and r else (None if p is None or r is None else 0.0)
        res[name] = {"rows": rows, "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}
    forbidden = 0
    for key, got in links.items():
        t = truth.get(key)
        if t is None:
            continue
        if t["not_in_roster"] or (t["twin_roster"] is not None and got == t["twin_roster"]):
            forbidden += 1
    res["forbidden"] = forbidden
    res["links"] = len(links)
    return res


def taizhang_links(out_dir):
    """(strict, reported, possible count).

    strict: decision "linked" only. reported: what taizhang tells the clerk
    about each survey row: its "linked" pair; else a "possible" pair that is
    the row's only candidate; else, for the second copy of a child surveyed
    twice (no pair of its own by design: one roster child, one link), the
    roster row its DUPLICATE_ID finding points to through the linked copy
    named in `related`."""
    with open(os.path.join(out_dir, "findings.json"), encoding="utf-8") as f:
        j = json.load(f)
    strict, possible = {}, {}
    for l in j["links"]:
        key = (l["survey"]["file"], l["survey"]["row"])
        if l["decision"] == "linked":
            strict[key] = l["roster"]["row"]
        else:
            possible.setdefault(key, []).append(l["roster"]["row"])
    reported = dict(strict)
    for key, rows in possible.items():
        if key not in reported and len(rows) == 1:
            reported[key] = rows[0]
    for fd in j["findings"]:
        if fd["code"] != "DUPLICATE_ID":
            continue
        key = (fd["file"], fd["row"])
        if key in reported or key in possible:
            continue
        for rel in fd.get("related", []):
            other = (rel["file"], rel["row"])
            if other in strict:
                reported[key] = strict[other]
                break
    return strict, reported, sum(len(v) for v in possible.values())


def peer_links(path):
    links = {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            links[(r["survey_file"], int(r["survey_row"]))] = int(r["roster_row"])
    return links


def run_size(n, args):
    tag = f"{n}-hard" if args.hard else (f"{n}-csv" if args.csv else str(n))
    d = os.path.join(BENCH, "data", tag)
    if not os.path.exists(os.path.join(d, "truth.csv")):
        print(f"[{n}] generating …", flush=True)
        extra = (["--hard"] if args.hard else []) + (["--csv"] if args.csv else [])
        subprocess.run([GEN, d, str(n), "2022"] + extra, check=True)
    truth = load_truth(d)
    res = {"size": n, "survey_rows": len(truth), "tools": {}}
    rd = os.path.join(BENCH, "results", tag)
    os.makedirs(rd, exist_ok=True)

    print(f"[{n}] calamine read …", flush=True)
    res["tools"]["calamine_read"] = timed([READ, d])

    # Inputs named explicitly: truth.csv sits in the same folder.
    files = sorted(os.listdir(d))
    inputs = ["--config", os.path.join(d, "taizhang.toml")]
    inputs += ["--roster", os.path.join(d, next(f for f in files if f.startswith("县局名单")))]
    for f in files:
        if f.startswith("附件1_"):
            inputs += ["--survey", os.path.join(d, f)]

    def run_taizhang(binary, name):
        print(f"[{n}] {name} reconcile …", flush=True)
        out = os.path.join(rd, name.replace(" ", "_").replace("(", "").replace(")", "") + "_out")
        # A fresh folder: an earlier run's history would make this run's
        # findings.json compare with it (changes.previous_run differs).
        shutil.rmtree(out, ignore_errors=True)
        cmd = [binary, "reconcile"] + inputs + ["--out", out, "--quiet"]
        # TAIZHANG_TIMINGS: each phase's wall time and memory, on stderr.
        t = timed(cmd, env=dict(os.environ, TAIZHANG_TIMINGS="1"))
        if not t["timed_out"]:
            t["phases"] = [l for l in t.get("stderr_full", "").splitlines() if l.startswith("[timing]")]
        if not t["timed_out"] and t["rc"] in (0, 1):
            strict, reported, possible = taizhang_links(out)
            t["score"] = score(truth, reported)
            t["possible"] = possible
        return t, out

    if args.previous:
        prev, prev_out = run_taizhang(args.previous, "taizhang (previous)")
        res["tools"]["taizhang (previous)"] = prev
    t, out = run_taizhang(TZ, "taizhang")
    if not t["timed_out"] and t["rc"] in (0, 1):
        strict, _, _ = taizhang_links(out)
        res["tools"]["taizhang (linked only)"] = dict(t, score=score(truth, strict))
    res["tools"]["taizhang"] = t
    if args.previous and not prev["timed_out"] and prev["rc"] in (0, 1) and t["rc"] in (0, 1):
        same = open(os.path.join(out, "findings.json"), "rb").read() == open(os.path.join(prev_out, "findings.json"), "rb").read()
        res["findings_identical_to_previous"] = same
        print(f"[{n}] findings.json identical to the previous binary's: {same}", flush=True)

    for peer in args.peers:
        print(f"[{n}] {peer} …", flush=True)
        lf = os.path.join(rd, f"{peer}_links.csv")
        tj = os.path.join(rd, f"{peer}_timings.json")
        for f in (lf, tj):
            if os.path.exists(f):
                os.remove(f)
        t = timed([PY, os.path.join(BENCH, "peers.py"), peer, d, lf, tj], timeout=args.timeout)
        if not t["timed_out"] and t["rc"] == 0:
            t["score"] = score(truth, peer_links(lf))
            t["phases"] = json.load(open(tj))
        res["tools"][peer] = t
    for t in res["tools"].values():
        t.pop("stderr_full", None)
    with open(os.path.join(BENCH, "results", f"{tag}.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    return res


def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def summarize_hard(results):
    """One row per (size, hard-case kind, tool): P / R / F1 on that kind."""
    lines = []
    for r in results:
        for name, t in r["tools"].items():
            s = t.get("score") or {}
            for kind in sorted(k for k in s if k.startswith("hard:")):
                x = s[kind]
                lines.append(
                    f"| {r['size']:,} | {kind[5:]} | {x['rows']} | {name} | "
                    f"{fmt(x['precision'])} / {fmt(x['recall'])} / {fmt(x['f1'])} | {x['fp']} |"
                )
    if not lines:
        return ""
    head = ["| size | hard case | rows | tool | P / R / F1 | wrong links |", "|---|---|---|---|---|---|"]
    return "\n".join(head + lines)


def summarize(results, timeout):
    lines = []
    lines.append("| size | tool | wall s | cpu s | s / 1k rows | peak MB | tz/tool time | overall P / R / F1 | damaged ID F1 | twins F1 | not-in-roster false links | forbidden |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        n = r["size"]
        tz = r["tools"]["taizhang"]
        for name, t in r["tools"].items():
            if t.get("timed_out"):
                lines.append(f"| {n:,} | {name} | timed out after {t['wall_s']:.0f} s | | | | | | | | | |")
                continue
            if t.get("rc") not in (0, 1):
                lines.append(f"| {n:,} | {name} | failed (exit {t.get('rc')}) | | | | | | | | | |")
                continue
            ratio = tz["wall_s"] / t["wall_s"] if not tz.get("timed_out") else None
            s = t.get("score")
            q = "" if not s else f"{fmt(s['overall']['precision'])} / {fmt(s['overall']['recall'])} / {fmt(s['overall']['f1'])}"
            lines.append(
                f"| {n:,} | {name} | {t['wall_s']:.2f} | {fmt(t.get('cpu_s'), 2)} | {1000 * t['wall_s'] / n:.4f} | {fmt(t.get('rss_mb'), 0)} | {fmt(ratio, 2)} | {q} | "
                + (f"{fmt(s['damaged_id']['f1'])} | {fmt(s['twin']['f1'])} | {s['not_in_roster']['fp']} of {s['not_in_roster']['rows']} | {s['forbidden']} |" if s else " | | | |")
            )
    return "\n".join(lines)


PHASE = re.compile(r"\[timing\] (\S+)\s+([\d.]+) ms\s+rss (\d+) MB, peak (\d+) MB")


def summarize_phases(results):
    """One row per (size, taizhang binary): each phase's wall ms and the peak
    RSS at its end (MB), then CPU s per 1,000 roster children."""
    # The phases in the order the current binary prints them, then any an
    # older binary names differently ("–" where a binary has none).
    names = []
    for name in ("taizhang", "taizhang (previous)"):
        for r in results:
            t = r["tools"].get(name)
            for l in t.get("phases", []) if isinstance(t, dict) else []:
                m = PHASE.match(l)
                if m and m.group(1) not in names:
                    names.append(m.group(1))
    lines = ["| size | binary | " + " | ".join(names) + " | cpu s / 1k children | peak MB / 1k children |",
             "|---|---|" + "---|" * len(names) + "---|---|"]
    for r in results:
        n = r["size"]
        for name in ("taizhang (previous)", "taizhang"):
            t = r["tools"].get(name)
            if not t or t.get("timed_out") or t.get("rc") not in (0, 1):
                continue
            got = {}
            for l in t.get("phases", []):
                m = PHASE.match(l)
                if m:
                    got[m.group(1)] = f"{float(m.group(2)) / 1000:.1f} s / {m.group(4)}"
            cells = [got.get(p, "–") for p in names]
            lines.append(f"| {n:,} | {name} | " + " | ".join(cells)
                         + f" | {fmt(1000 * t['cpu_s'] / n, 3)} | {fmt(1000 * t['rss_mb'] / n, 3)} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2000,30000")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--peers", default="splink,recordlinkage")
    ap.add_argument("--hard", action="store_true",
                    help="rounds with the hard cases of gen_round --hard (roster_dup, id_retyped, lunar)")
    ap.add_argument("--previous", default=None, help="an older taizhang binary to run side by side")
    ap.add_argument("--csv", action="store_true", help="csv inputs at every size")
    args = ap.parse_args()
    args.peers = [p for p in args.peers.split(",") if p]
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    results = []
    for n in [int(s.replace("_", "")) for s in args.sizes.split(",")]:
        results.append(run_size(n, args))
        md = summarize(results, args.timeout)
        md += "\n\nPhases (wall s / peak MB at the end of the phase):\n\n" + summarize_phases(results)
        hard = summarize_hard(results)
        if hard:
            md += "\n\n" + hard
        open(os.path.join(BENCH, "results", "summary.md"), "w").write(md + "\n")
        print(md, flush=True)


if __name__ == "__main__":
    main()
