#!/usr/bin/env python3
"""The end of scripts/soak.sh: reads the soak's samples (CSV), judges the resource figures
and draws RSS, open fds and threads over time as an SVG (written directly, no plotting
library).

  soak_report.py CSV --svg FILE --warmup SECONDS --rss-bound-mib M --rss-bound-percent P
                 [--title TEXT] [--mark SECONDS:LABEL]...

Prints key=value lines for the shell to check and report:
  rss_start_kib rss_base_kib rss_end_kib rss_max_kib rss_growth_kib rss_bound_kib rss_ok
  fds_start fds_base fds_end fds_max fds_ok fds_flush_step  threads_start threads_base
  threads_end threads_max threads_flush_step  own_* and own_ok (the same for exitblock's own threads:
  all but Dispatch's pool)  pool_start pool_max pool_bound pool_ok  samples post_warmup_samples
The rules (stated in the soak's output and its documentation):
  RSS:      the largest sample after warm-up exceeds the first sample after warm-up by at
            most max(M MiB, P % of that first sample);
  fds and threads: within each stretch after warm-up between rules flushes (the flush
            periods left out), the smallest of the last three samples is at most the largest
            of the first three (a leak of one per event shows; a transient connection open at
            one sample does not). The step from one stretch to the next is reported: the
            first restore starts the child-process runner once. Threads are judged as
            exitblock's own (the rule above) and Dispatch's pool (com.apple.root.*-qos*
            workers, which carry Swift's concurrency pool and which libdispatch starts and
            parks as work blocks): at most --pool-bound at every sample after warm-up.
"""
import argparse
import csv
import html


def judge(rows, warmup, bound_mib, bound_percent, pool_bound):
    post = [r for r in rows if float(r["t_s"]) > warmup] or rows[-1:]
    out = {"samples": len(rows), "post_warmup_samples": len(post)}
    rss = [int(r["rss_kib"]) for r in post]
    base = rss[0]
    bound = max(bound_mib * 1024, base * bound_percent // 100)
    out.update(
        rss_start_kib=rows[0]["rss_kib"], rss_base_kib=base, rss_end_kib=rss[-1], rss_max_kib=max(rss),
        rss_growth_kib=max(rss) - base, rss_bound_kib=bound, rss_ok=int(max(rss) - base <= bound),
    )
    # fds and threads are judged within each stretch between rules flushes: the first restore
    # starts the child-process runner (its monitor thread, an epoll and an eventfd) and grows
    # Dispatch's thread pool, once; that step is reported, a leak grows within a stretch.
    stretches, current = [], []
    for r in post:
        if r.get("phase") == "flush":
            stretches, current = stretches + [current], []
        else:
            current.append(r)
    stretches = [s for s in stretches + [current] if s] or [post]
    for r in rows:  # exitblock's own threads: all but Dispatch's pool (older CSVs: all)
        r["own"] = int(r["threads"]) - int(r.get("pool_threads") or 0)
    pool = [int(r.get("pool_threads") or 0) for r in post]
    out.update(pool_start=rows[0].get("pool_threads") or 0, pool_max=max(pool), pool_bound=pool_bound,
               pool_ok=int(max(pool) <= pool_bound))
    for key in ("fds", "threads", "own"):
        values = [int(r[key]) for r in post]
        ok, steps = True, []
        for i, stretch in enumerate(stretches):
            part = [int(r[key]) for r in stretch]
            ok = ok and min(part[-3:]) <= max(part[:3])
            if i > 0:
                steps.append(max(part[:3]) - max(int(r[key]) for r in stretches[i - 1][:3]))
        out.update({
            f"{key}_start": rows[0][key], f"{key}_base": max(values[:3]), f"{key}_end": values[-1],
            f"{key}_max": max(values), f"{key}_flush_step": ",".join(f"{s:+d}" for s in steps) or "none",
        })
        if key != "threads":  # threads are judged as exitblock's own and Dispatch's pool
            out[f"{key}_ok"] = int(ok)
    return out


def panel(x0, y0, w, h, tmax, series, ylabel, marks, warmup, limits=(), zero=False):
    """One chart: series = [(name, colour, [(t, v)...])], limits = [(value, label)] drawn as
    dashed horizontal lines; zero: the axis starts at 0. Returns SVG elements."""
    values = [v for _, _, pts in series for _, v in pts] + [v for v, _ in limits]
    lo, hi = (0 if zero else min(values)), max(values)
    if hi == lo:
        hi = lo + 1
    pad = (hi - lo) * 0.1
    lo, hi = (0 if zero else max(0, lo - pad)), hi + pad
    sx = lambda t: x0 + w * t / tmax
    sy = lambda v: y0 + h - h * (v - lo) / (hi - lo)
    e = []
    if warmup > 0:
        e.append(f'<rect x="{x0}" y="{y0}" width="{sx(min(warmup, tmax)) - x0:.1f}" height="{h}" fill="#f0f0f0"/>')
    e.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>')
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = sy(v)
        e.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#eee"/>')
        e.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{v:.1f}</text>')
    step = next(m for m in (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 1e9) if tmax / 60 / m <= 8) * 60
    t = 0.0
    while t <= tmax:
        e.append(f'<text x="{sx(t):.1f}" y="{y0 + h + 15}" text-anchor="middle" font-size="11">{t / 60:g}</text>')
        e.append(f'<line x1="{sx(t):.1f}" y1="{y0 + h}" x2="{sx(t):.1f}" y2="{y0 + h + 4}" stroke="#888"/>')
        t += step
    e.append(f'<text x="{x0 - 48}" y="{y0 + h / 2}" font-size="12" transform="rotate(-90 {x0 - 48} {y0 + h / 2})" '
             f'text-anchor="middle">{html.escape(ylabel)}</text>')
    for t, label in marks:
        x = sx(t)
        e.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + h}" stroke="#c00" stroke-dasharray="4 3"/>')
        e.append(f'<text x="{x + 3:.1f}" y="{y0 + 12}" font-size="11" fill="#c00">{html.escape(label)}</text>')
    for v, label in limits:
        e.append(f'<line x1="{x0}" y1="{sy(v):.1f}" x2="{x0 + w}" y2="{sy(v):.1f}" stroke="#999" stroke-dasharray="6 4"/>')
        e.append(f'<text x="{x0 + 6}" y="{sy(v) - 4:.1f}" font-size="11" fill="#666">{html.escape(label)}</text>')
    for i, (name, colour, pts) in enumerate(series):
        path = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in pts)
        e.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        for t, v in pts:
            e.append(f'<circle cx="{sx(t):.1f}" cy="{sy(v):.1f}" r="2" fill="{colour}"/>')
        e.append(f'<text x="{x0 + w - 110 * (len(series) - 1 - i)}" y="{y0 - 6}" text-anchor="end" font-size="12" '
                 f'fill="{colour}">{html.escape(name)}</text>')
    return e


def svg(rows, path, title, warmup, marks, figures):
    tmax = max(float(r["t_s"]) for r in rows) or 1
    pts = lambda key, scale=1: [(float(r["t_s"]), int(r[key]) / scale) for r in rows]
    w, h = 760, 200
    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="860" height="550" font-family="sans-serif">',
         '<rect width="100%" height="100%" fill="white"/>',
         f'<text x="430" y="22" text-anchor="middle" font-size="14">{html.escape(title)}</text>']
    bound = (figures["rss_base_kib"] + figures["rss_bound_kib"]) / 1024
    e += panel(80, 50, w, h, tmax, [("RSS (MiB)", "#1f77b4", pts("rss_kib", 1024))], "RSS (MiB)", marks, warmup,
               limits=[(bound, f"leak bound {bound:.1f} MiB")])
    e += panel(80, 305, w, h, tmax, [("open fds", "#d62728", pts("fds")), ("threads", "#2ca02c", pts("threads"))],
               "count", marks, warmup, zero=True)
    e.append('<text x="460" y="542" text-anchor="middle" font-size="12">minutes (grey: warm-up)</text>')
    e.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(e) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--svg", required=True)
    parser.add_argument("--warmup", type=float, required=True)
    parser.add_argument("--rss-bound-mib", type=int, default=8)
    parser.add_argument("--rss-bound-percent", type=int, default=10)
    parser.add_argument("--pool-bound", type=int, default=16, help="most Dispatch pool threads")
    parser.add_argument("--title", default="exitblock soak: RSS, open fds and threads")
    parser.add_argument("--mark", action="append", default=[], help="SECONDS:LABEL, a dashed line")
    args = parser.parse_args()
    with open(args.csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit("soak_report: no samples in " + args.csv)
    marks = [(float(m.split(":", 1)[0]), m.split(":", 1)[1]) for m in args.mark]
    figures = judge(rows, args.warmup, args.rss_bound_mib, args.rss_bound_percent, args.pool_bound)
    for key, value in figures.items():
        print(f"{key}={value}")
    svg(rows, args.svg, args.title, args.warmup, marks, figures)


if __name__ == "__main__":
    main()
