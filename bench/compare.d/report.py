#!/usr/bin/env python3
"""bench/compare.d/report.py OUT: turn bench/compare's raw/*.json and raw/*.meta.json into
results.md, results.json and gnuplot charts (PNG) in OUT. Medians with min-max spread over runs."""
import glob
import json
import os
import statistics
import subprocess
import sys

OUT = sys.argv[1]
ORDER = ["siptlsd", "kamailio", "kamailio-tm", "haproxy", "direct"]
LABEL = {
    "siptlsd": "siptlsd (1 worker)",
    "kamailio": "Kamailio forward()",
    "kamailio-tm": "Kamailio t_relay()",
    "haproxy": "HAProxy TLS relay",
    "direct": "UAC->UAS direct",
}
machine = json.load(open(os.path.join(OUT, "machine.json")))


def load():
    """rows[target][figure] = [value per run]; errs[target][scenario] = [errors per run]"""
    rows, errs, notes = {}, {}, []
    for mpath in sorted(glob.glob(os.path.join(OUT, "raw", "*.meta.json"))):
        m = json.load(open(mpath))
        jpath = mpath.replace(".meta.json", ".json")
        try:
            j = json.load(open(jpath))
        except (OSError, ValueError):
            notes.append("%s run %s %s: no JSON summary (exit %s)" %
                         (m["target"], m["run"], m["scenario"], m["rc"]))
            continue
        t, sc = m["target"], m["scenario"]
        r = rows.setdefault(t, {})
        e = j.get("errors", {})
        errs.setdefault(t, {}).setdefault(sc, []).append(e.get("total", 0))
        if e.get("total"):
            kinds = {k: v for k, v in e.items() if k not in ("total", "status") and v}
            kinds.update({"status %s" % k: v for k, v in e.get("status", {}).items()})
            notes.append("%s run %s %s: %d errors %s" % (t, m["run"], sc, e["total"], kinds))
        if sc == "idle":
            held = j.get("held", 0)
            if held:
                r.setdefault("idle_held", []).append(held)
                r.setdefault("rss_kib_conn", []).append(
                    (m["rss_after_kib"] - m["rss_before_kib"]) / held)
                r.setdefault("pss_kib_conn", []).append(
                    (m["pss_after_kib"] - m["pss_before_kib"]) / held)
            if not m.get("all_up"):
                notes.append("%s run %s idle: not all %d connections came up (held %d)" %
                             (t, m["run"], m["asked"], held))
            continue
        cpu_us = m["proxy_ticks"] / m["clk_tck"] * 1e6
        lat = j.get("latency_us", {})
        if sc == "hs":
            n = j.get("handshakes", 0)
            r.setdefault("hs_per_s", []).append(j.get("handshakes_per_s", 0))
            if n:
                r.setdefault("cpu_us_hs", []).append(cpu_us / n)
            continue
        n = j.get("transactions", 0)
        r.setdefault(sc + "_tx_s", []).append(j.get("tx_per_s", 0))
        if n:
            r.setdefault(sc + "_cpu_us_tx", []).append(cpu_us / n)
            r.setdefault(sc + "_p50", []).append(lat.get("p50", 0))
            r.setdefault(sc + "_p99", []).append(lat.get("p99", 0))
    return rows, errs, notes


rows, errs, notes = load()
targets = [t for t in ORDER if t in rows]


def agg(t, k):
    v = rows.get(t, {}).get(k)
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def fmt(a, nd=1, unit=""):
    if a is None:
        return "—"
    f = "%%.%df" % nd
    if a["n"] == 1:
        return (f % a["median"]) + unit
    return (f + unit + " [" + f + "–" + f + "]") % (a["median"], a["min"], a["max"])


def fmt_int(a):
    if a is None:
        return "—"
    if a["n"] == 1:
        return "{:,.0f}".format(a["median"])
    return "{:,.0f} [{:,.0f}–{:,.0f}]".format(a["median"], a["min"], a["max"])


def fmt_lat(a):
    """microseconds, shown as ms from 1 ms up"""
    if a is None:
        return "—"
    def one(x):
        return "%.0f µs" % x if x < 1000 else "%.1f ms" % (x / 1000)
    if a["n"] == 1:
        return one(a["median"])
    return "%s [%s–%s]" % (one(a["median"]), one(a["min"]), one(a["max"]))


FIG = [
    ("sat_tx_s", "max tx/s (call, 50×8 closed loop)", fmt_int),
    ("sat_cpu_us_tx", "CPU µs/tx at saturation", fmt),
    ("fixed_tx_s", "tx/s done at fixed rate", fmt_int),
    ("fixed_cpu_us_tx", "CPU µs/tx at fixed rate", fmt),
    ("lat_p50", "p50 at latency rate", fmt_lat),
    ("lat_p99", "p99 at latency rate", fmt_lat),
    ("lat_cpu_us_tx", "CPU µs/tx at latency rate", fmt),
    ("hs_per_s", "handshakes/s", fmt_int),
    ("cpu_us_hs", "CPU µs/handshake", fmt),
    ("pss_kib_conn", "KiB/idle conn (PSS)", fmt),
    ("rss_kib_conn", "KiB/idle conn (VmRSS sum)", fmt),
    ("idle_held", "idle conns held", fmt_int),
]

md = []
M = machine
md.append("# bench/compare results\n")
md.append("Commit %s (%s); %s UTC; %s, %d CPUs, kernel %s; Kamailio %s, HAProxy %s, OpenSSL "
          "%s. %d run(s) × %d s per measurement; fixed rate %d tx/s; latency rate %d "
          "tx/s; nice %d; %d idle connections asked (HAProxy capped at its maxconn %d); load average "
          "before: %s.\n" %
          (M["commit"], "tree had %d files with uncommitted changes" % M["dirty_files"]
           if M["dirty_files"] else "clean tree", M["date"], M["cpu"], M["nproc"], M["kernel"],
           M["kamailio"], M["haproxy"], M["openssl"], M["runs"], M["duration_s"],
           M["rate_fixed"], M["rate_latency"], M.get("nice", 0), M["idle_conns"], M["haproxy_maxconn"] - 50,
           M["load_before"]))
if M.get("build_dir"):
    md.append("Binaries: %s/core/siptlsd and %s/bench/siptls-bench.\n" % (M["build_dir"], M["build_dir"]))
md.append("Cells: median [min–max] over runs. CPU = the proxy's utime+stime (all its "
          "processes) per completed transaction (INVITE→200 or BYE→200) or handshake; for "
          "`direct` it is the UAS's. Proxy on CPU 0, UAS and UAC on CPU 1.\n")
md.append("| figure | " + " | ".join(LABEL[t] for t in targets) + " |")
md.append("|---|" + "---|" * len(targets))
for k, name, f in FIG:
    if not any(agg(t, k) for t in targets):
        continue
    md.append("| %s | %s |" % (name, " | ".join(f(agg(t, k)) for t in targets)))
md.append("| errors (all scenarios, all runs) | %s |" %
          " | ".join(str(sum(sum(v) for v in errs.get(t, {}).values())) for t in targets))
md.append("")

# siptlsd against each peer
LOWER = [("sat_cpu_us_tx", "CPU/tx at saturation"), ("fixed_cpu_us_tx", "CPU/tx at fixed rate"),
         ("lat_p50", "p50 latency"), ("lat_p99", "p99 latency"),
         ("cpu_us_hs", "CPU/handshake"), ("pss_kib_conn", "memory/idle conn (PSS)")]
HIGHER = [("sat_tx_s", "max tx/s"), ("hs_per_s", "handshakes/s")]
peers = [t for t in targets if t not in ("siptlsd", "direct")]
ratios = {}
if "siptlsd" in rows and peers:
    md.append("## siptlsd ÷ peer (medians; below 1.00 = siptlsd better for cost and latency, "
              "above 1.00 = better for rates)\n")
    md.append("| figure | " + " | ".join(LABEL[t] for t in peers) + " |")
    md.append("|---|" + "---|" * len(peers))
    for k, name in HIGHER + LOWER:
        s = agg("siptlsd", k)
        cells = []
        for t in peers:
            p = agg(t, k)
            if s and p and p["median"] > 0:
                r = s["median"] / p["median"]
                ratios.setdefault(t, {})[k] = r
                cells.append("%.2f" % r)
            else:
                cells.append("—")
        md.append("| %s | %s |" % (name, " | ".join(cells)))
    md.append("")

# the goals
goals = []
def goal(name, k, limit, unit, note=""):
    a = agg("siptlsd", k)
    if a is None:
        goals.append((name, "—", "≤ %s %s" % (limit, unit.replace(" lat", "")), "not measured" + note))
        return
    v = a["median"]
    goals.append((name, ("%.1f %s" % (v, unit)) if unit != "µs lat" else fmt_lat(a),
                  "≤ %s %s" % (limit, unit.replace(" lat", "")),
                  ("met" if v <= limit else "NOT met") + note))
goal("proxy CPU per transaction, pipelined saturation (50 × 8)", "sat_cpu_us_tx", 3, "µs")
goal("proxy CPU per transaction at a fixed 10,000 tx/s", "fixed_cpu_us_tx", 30, "µs",
     "" if M["rate_fixed"] == 10000 else " (measured at %d tx/s, not 10,000)" % M["rate_fixed"])
goal("p50 latency at a fixed 5,000 tx/s", "lat_p50", 150, "µs lat",
     "" if M["rate_latency"] == 5000 else " (measured at %d tx/s)" % M["rate_latency"])
goal("p99 latency at a fixed 5,000 tx/s", "lat_p99", 600, "µs lat",
     "" if M["rate_latency"] == 5000 else " (measured at %d tx/s)" % M["rate_latency"])
goal("proxy CPU per full handshake", "cpu_us_hs", 250, "µs")
goal("memory per idle TLS connection, user record path (PSS)", "pss_kib_conn", 20, "KiB")
goals.append(("memory per idle TLS connection, kernel record path", "—", "≤ 4 KiB",
              "not measured (no kTLS on this host kernel)"))
md.append("## siptlsd against the issue's goals\n")
md.append("| figure | siptlsd (median) | goal | verdict |")
md.append("|---|---|---|---|")
for g in goals:
    md.append("| %s | %s | %s | %s |" % g)
md.append("")
if notes:
    md.append("## Errors and anomalies\n")
    for n in notes:
        md.append("- " + n)
    md.append("")
md.append("Charts: cpu_per_tx.png, latency.png, handshake.png, memory.png. Raw summaries: raw/.\n")
open(os.path.join(OUT, "results.md"), "w").write("\n".join(md))

summary = {"machine": M, "targets": {t: {k: agg(t, k) for k, _, _ in FIG} for t in targets},
           "ratios_siptlsd_over_peer": ratios, "goals": goals, "notes": notes}
json.dump(summary, open(os.path.join(OUT, "results.json"), "w"), indent=1)


# --- charts --------------------------------------------------------------------------------
def dat(name, keys, scale=1.0):
    with open(os.path.join(OUT, name), "w") as f:
        for t in targets:
            cells = []
            for k in keys:
                a = agg(t, k)
                cells += ["?", "?", "?"] if a is None else \
                    ["%.3f" % (a["median"] * scale), "%.3f" % (a["min"] * scale),
                     "%.3f" % (a["max"] * scale)]
            f.write('"%s" %s\n' % (LABEL[t], " ".join(cells)))


dat("cpu_per_tx.dat", ["sat_cpu_us_tx", "fixed_cpu_us_tx", "lat_cpu_us_tx"])
dat("latency.dat", ["lat_p50", "lat_p99"])
dat("handshake.dat", ["cpu_us_hs"])
dat("memory.dat", ["pss_kib_conn", "rss_kib_conn"])
head = """set terminal pngcairo size 1000,560 font ",10"
set datafile missing "?"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
set xtics noenhanced
set title noenhanced
"""
gp = head + """
set output "{o}/cpu_per_tx.png"
set title "proxy CPU per transaction (µs; median, bars min-max; direct: the UAS)"
plot "{o}/cpu_per_tx.dat" using 2:3:4:xtic(1) title "saturation 50x8", \
     "" using 5:6:7 title "fixed {rf} tx/s", "" using 8:9:10 title "{rl} tx/s"
set output "{o}/latency.png"
set title "latency through the proxy at {rl} tx/s (µs, log scale; median, bars min-max)"
set logscale y
set yrange [10:*]
plot "{o}/latency.dat" using 2:3:4:xtic(1) title "p50", "" using 5:6:7 title "p99"
unset logscale y
set yrange [0:*]
set output "{o}/handshake.png"
set title "proxy CPU per full TLS handshake (µs; median, bars min-max)"
plot "{o}/handshake.dat" using 2:3:4:xtic(1) title "CPU/handshake"
set output "{o}/memory.png"
set title "proxy memory per idle TLS connection (KiB; median, bars min-max)"
plot "{o}/memory.dat" using 2:3:4:xtic(1) title "PSS", "" using 5:6:7 title "VmRSS summed"
""".format(o=OUT, rf=M["rate_fixed"], rl=M["rate_latency"])
open(os.path.join(OUT, "charts.gp"), "w").write(gp)
r = subprocess.run(["gnuplot", os.path.join(OUT, "charts.gp")], capture_output=True, text=True)
if r.returncode:
    sys.stderr.write("gnuplot: " + r.stderr[-2000:])
print("\n".join(md))
