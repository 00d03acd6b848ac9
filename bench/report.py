#!/usr/bin/env python3
"""Writes a bench run's table: to stdout, to bench/results/<date>-<commit>.md with its latency
chart, and into bench/RESULTS.md, which keeps the latest row per scenario (from
bench/results/latest.json) with the machine and commit each ran on.

usage: report.py <rows.jsonl> <commit> <machine description>
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(BENCH, "results")
ORDER = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "I1", "I2", "S1", "P8", "P9", "P10", "P11", "P12", "R1", "R2", "R3", "R4"]


def sort_key(row):
    head = re.match(r"[A-Z]\d+", row["id"]).group()
    return (ORDER.index(head) if head in ORDER else len(ORDER), row["id"])


def table(rows, with_origin=False):
    head = "| id | scenario | measured | target | ceiling (same run) | verdict |"
    rule = "|---|---|---|---|---|---|"
    if with_origin:
        head, rule = head + " run |", rule + "---|"
    lines = [head, rule]
    for r in sorted(rows, key=sort_key):
        cells = [r["id"], r["scenario"], r["measured"], r["target"], r["ceiling"] or "-", r["verdict"]]
        if with_origin:
            cells.append(f"{r['date']} `{r['commit']}`")
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def chart(rows, path, title):
    """Latency percentiles per scenario as grouped bars (log scale), through gnuplot."""
    plotted = [r for r in sorted(rows, key=sort_key) if r["latency"].get("p99")]
    if not plotted or not shutil.which("gnuplot"):
        return False
    data = path + ".dat"
    with open(data, "w") as f:
        for r in plotted:
            lat = r["latency"]
            f.write(f"\"{r['id']}\" {lat.get('p50', 0) or 0} {lat.get('p90', lat.get('p50', 0)) or 0} {lat['p99']}\n")
    script = f"""
set terminal svg size 1200,520 dynamic font 'sans,11'
set output '{path}'
set title '{title}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [0.1:*]
set ylabel 'latency (ms, log scale)'
set xtics rotate by -30
set grid ytics
set key top left
plot '{data}' using 2:xtic(1) title 'p50', '' using 3 title 'p90', '' using 4 title 'p99'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)
    return True


def main():
    rows_file, commit, machine = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(rows_file) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    for r in rows:
        r["date"], r["commit"] = date, commit
    os.makedirs(RESULTS, exist_ok=True)
    name = f"{date}-{commit}"
    svg = f"{name}-latency.svg"
    has_chart = chart(rows, os.path.join(RESULTS, svg), f"DeFarm bench {name}: latency by scenario")
    settings = sorted({r["settings"] for r in rows if r.get("settings")})
    body = [f"# Bench run {name}", "", f"Machine: {machine}", "", table(rows), ""]
    if settings:
        body += ["Limiter settings: " + "; ".join(settings), ""]
    if has_chart:
        body += [f"![latency]({svg})", ""]
    text = "\n".join(body)
    print(text)
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write(text)

    latest_file = os.path.join(RESULTS, "latest.json")
    latest = {}
    if os.path.exists(latest_file):
        with open(latest_file) as f:
            latest = {r["id"]: r for r in json.load(f)}
    for r in rows:
        latest[r["id"]] = {**r, "machine": machine}
    merged = sorted(latest.values(), key=sort_key)
    with open(latest_file, "w") as f:
        json.dump(merged, f, indent=1)
    chart(merged, os.path.join(RESULTS, "latest-latency.svg"), "DeFarm bench: latest latency per scenario")
    machines = sorted({r["machine"] for r in merged})
    summary = [
        "# Bench results", "",
        "The latest measurement of each scenario from `bench/run.sh` (targets from",
        "`../shared/design/QUALITY.md`), with the ceiling measured in the same run. Each run's full",
        "table is in `bench/results/<date>-<commit>.md`.", "",
        "Machines: " + "; ".join(machines), "",
        table(merged, with_origin=True), "",
        "![latency per scenario](results/latest-latency.svg)", "",
    ]
    # How to read the rows (machine drift, before/after comparisons) is written by hand.
    reading = os.path.join(BENCH, "READING.md")
    if os.path.exists(reading):
        with open(reading) as f:
            summary += [f.read().strip(), ""]
    with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
        f.write("\n".join(summary))


if __name__ == "__main__":
    main()
