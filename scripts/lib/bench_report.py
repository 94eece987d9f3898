#!/usr/bin/env python3
"""The report tables of scripts/bench.sh, from the runs it recorded.

Usage:
  bench_report.py mix PROFILE MODES LOADS RESULTS   the flood table of one mix profile, with its ratios
  bench_report.py syn SYN_RESULTS                   the SYN profile's table
  bench_report.py goals LOADS RESULTS SYN_RESULTS   the goals, from the medians (load max when LOADS has it)
  bench_report.py bad RESULTS SYN_RESULTS           the runs where a filter let a listed packet through
                                                    or lost a clean one (nothing when there is none)

MODES and LOADS are space-separated lists (the order of the table's rows). RESULTS has one line per
flood run: profile load mode round offered delivered listed_passed unlisted_lost lost_% daemon_ns
nfq_queue_drops nfq_user_drops total_ns user_ns judged clean_pps kernel_drops kernel_accepts sent
(fields 1 to 19, "-" where not measured). SYN_RESULTS: mode sources syns judged kernel_drops
kernel_drops_metric listed_passed listed_answered clean_tries clean_ok clean_failed ...
"""

import sys

RATIO_PAIRS = (
    "exitblock/cref exitblock/ipset exitblock/none exitblock-filter/exitblock "
    "packet+dropcache/exitblock packet+cache/exitblock packet+cache/ipset "
    "chain-0set/exitblock chain-1set/chain-0set chain-2set/chain-0set chain-2set/exitblock "
    "packet+dropcache/chain-1set packet+cache/chain-2set "
    "hit-2set/ipset hit-plain/ipset hit-plain/hit-2set hit-mark/ipset hit-mark/hit-2set packet+cache/hit-2set "
    "hit-nft2set/ipset hit-nftvmap/ipset hit-nftvmap/hit-nft2set hit-nftvmap/hit-2set "
    "ct/none ipset/none flow/ct flow/ipset flow-filter/flow flow+cache/ct flow+cache/flow"
).split()
# (numerator mode, denominator mode, profile, goal, comparison) on the median clean kpps.
GOALS = (
    ("packet+cache", "ipset", "mix10", 1.0, ">="),
    ("packet+cache", "ipset", "mix50", 0.95, ">="),
    ("flow+cache", "ct", "mix10", 1.0, ">="),
    ("flow+cache", "ct", "mix50", 1.0, ">="),
    ("exitblock", "cref", "mix10", 1.0, ">="),
    ("exitblock", "cref", "mix50", 1.0, ">="),
)
SYN_MODES = ("packet+dropcache", "packet+cache", "flow+cache", "exitblock", "flow")


def number(text):
    """awk's reading of a field: its leading number, 0 when there is none."""
    try:
        return float(text)
    except ValueError:
        digits = ""
        for character in text:
            if not (character.isdigit() or character in ".-+eE") or (character in "-+" and digits):
                break
            digits += character
        try:
            return float(digits)
        except ValueError:
            return 0.0


def median(values):
    """The median of the values as numbers; "-" when there is none or the first sorted is "-"."""
    if not values:
        return "-"
    ordered = sorted(values, key=number)
    if ordered[0] == "-":
        return "-"
    count = len(ordered)
    if count % 2:
        return number(ordered[count // 2])
    return (number(ordered[count // 2 - 1]) + number(ordered[count // 2])) / 2


def fmt(value, spec):
    return "-" if value in ("-", "") else spec % value


def read_rows(path):
    """The rows of a results file, split into fields; none when there is no file (no run)."""
    try:
        lines = open(path, encoding="utf-8")
    except FileNotFoundError:
        return []
    with lines:
        return [line.split() for line in lines if line.strip()]


def mix_table(profile, modes, loads, rows):
    """The flood table of one profile: medians per load and mode, then the ratios."""
    runs = {}
    for row in rows:
        if row[0] != profile:
            continue
        runs.setdefault((row[1], row[2]), []).append(row)
    out = []
    header = "%-6s %-16s %8s %9s %8s %7s %8s %6s %7s %7s %7s %7s %7s %7s %6s  %s"
    out.append(header % ("load", "mode", "offered", "delivered", "clean", "listed", "unlisted", "lost", "total",
                         "daemon", "daemon", "judged", "kernel", "kernel", "nfq", "check"))
    out.append(header % ("", "", "kpps", "kpps", "kpps", "passed", "lost", "%", "ns/pkt", "ns/pkt", "user", "%",
                         "drop %", "acc %", "drops", ""))
    clean, total, daemon = {}, {}, {}
    for load in loads:
        for mode in modes:
            group = runs.get((load, mode))
            if not group:
                continue
            out.append(mix_row(load, mode, group, clean, total, daemon))
    out.append("")
    out.append("ratios of medians (clean kpps; total CPU per packet; daemon CPU per packet judged):")
    for load in loads:
        for pair in RATIO_PAIRS:
            line = ratio_line(load, pair, clean, total, daemon)
            if line:
                out.append(line)
    return [line.rstrip() for line in out]


def mix_row(load, mode, group, clean, total, daemon):
    def field(index):
        return median([row[index - 1] for row in group])

    def percent(index):
        return median([str(100 * number(row[index - 1]) / number(row[18]) if number(row[18]) > 0 else 0) for row in group])

    clean[load, mode], total[load, mode], daemon[load, mode] = field(16), field(13), field(10)
    queue_drops, user_drops = field(11), field(12)
    check = "-" if mode in ("none", "ct") else "ok"
    if mode not in ("none", "ct") and max(number(row[6]) for row in group) > 0:
        check = "LISTED PASSED"
    if max(number(row[7]) for row in group) > 0:
        check = "UNLISTED LOST" if check in ("ok", "-") else check + ", UNLISTED LOST"
    nfq = "-" if queue_drops == "-" else "%d" % (number(queue_drops) + number(user_drops))
    return "%-6s %-16s %8.1f %9.1f %8.1f %7d %8d %6.2f %7.0f %7s %7s %7.1f %7.1f %7.1f %6s  %s" % (
        load, mode, number(field(5)) / 1000, number(field(6)) / 1000, number(clean[load, mode]) / 1000,
        number(field(7)), number(field(8)), number(field(9)), number(total[load, mode]),
        fmt(daemon[load, mode], "%.0f"), fmt(field(14), "%.0f"), number(percent(15)), number(percent(17)),
        number(percent(18)), nfq, check)


def ratio_line(load, pair, clean, total, daemon):
    first, second = pair.split("/")
    a, b = clean.get((load, first)), clean.get((load, second))
    if a is None or b is None or number(b) <= 0:
        return None
    a, b = number(a), number(b)
    total_b = number(total[load, second])
    cpu = number(total[load, first]) / total_b if total_b > 0 else 0
    line = "  %-5s %27s  clean kpps %.2f   total CPU/pkt %.2f" % (load, pair, a / b, cpu)
    x, y = daemon[load, first], daemon[load, second]
    if "-" not in (x, y) and number(y) > 0:
        line += "   daemon CPU/pkt %.2f" % (number(x) / number(y))
    return line


def syn_table(rows):
    header = "%-16s %7s %7s %7s %7s %10s %7s %13s %7s %8s %7s  %s"
    out = [
        header % ("mode", "listed", "SYNs", "SYNs", "judged", "judged per", "kernel", "kernel drops", "listed",
                  "clean", "clean", "check"),
        header % ("", "sources", "sent", "/source", "", "source", "drops", "(exitblock)", "passed", "connects",
                  "failed", ""),
    ]
    for row in rows:
        sources = number(row[1])
        per = "-" if row[3] == "-" else "%.2f" % (number(row[3]) / sources)
        check = "LISTED PASSED" if number(row[6]) > 0 or number(row[7]) > 0 else "ok"
        if number(row[10]) > 0 or number(row[9]) < number(row[8]):
            check = "CLEAN LOST" if check == "ok" else check + ", CLEAN LOST"
        out.append("%-16s %7d %7d %7.2f %7s %10s %7d %13s %7d %8d %7d  %s" % (
            row[0], sources, number(row[2]), number(row[2]) / sources, row[3], per, number(row[4]), row[5],
            number(row[6]), number(row[8]), number(row[10]), check))
    return out


def queue_full(row):
    """A lossy run's kernel queue drops (full, and netlink send failed), which the table's
    median column hides when most rounds had none: `, N dropped by the kernel queue`."""
    if number(row[7]) <= 0 or row[10] == "-":
        return ""
    return ", %d dropped by the kernel queue" % (number(row[10]) + number(row[11]))


def bad_runs(rows, syn_rows, short=False):
    """The runs that failed the correctness check, one line each (`short`: the goals' wording)."""
    flood = "flood %s %s %s round %s: %d listed passed, %d unlisted lost%s" if short else (
        "%s %s %s round %s: %d listed packets passed, %d unlisted lost%s")
    syn = "syn %s: %d listed passed, %d listed answered, %d of %d clean connects failed" if short else (
        "syn %s: %d listed SYNs passed, %d listed connects answered, %d of %d clean connects failed")
    out = []
    for row in rows:
        if row[2] not in ("none", "ct") and (number(row[6]) > 0 or number(row[7]) > 0):
            out.append(flood % (row[0], row[1], row[2], row[3], number(row[6]), number(row[7]), queue_full(row)))
    for row in syn_rows:
        if number(row[6]) > 0 or number(row[7]) > 0 or number(row[10]) > 0 or number(row[9]) < number(row[8]):
            out.append(syn % (row[0], number(row[6]), number(row[7]), number(row[8]) - number(row[9]), number(row[8])))
    return out


def paired_ratios(rows, load, profile, first, second):
    """The ratio of `first`'s clean kpps to `second`'s in each round that ran both (rounds
    alternate the modes, so the two runs of a round are minutes apart at most), in round order."""
    rounds = {}
    for row in rows:
        if row[0] == profile and row[1] == load and row[2] in (first, second):
            rounds.setdefault(row[3], {})[row[2]] = number(row[15])
    return [
        pair[first] / pair[second]
        for _, pair in sorted(rounds.items(), key=lambda item: number(item[0]))
        if first in pair and pair.get(second, 0) > 0
    ]


def spread(ratios, want, comparison):
    """How the rounds read against the goal: `rounds LOW-HIGH, N of M met`."""
    met = sum(1 for ratio in ratios if (ratio >= want if comparison == ">=" else ratio <= want))
    return "rounds %.2f-%.2f, %d of %d met" % (min(ratios), max(ratios), met, len(ratios))


def goals(rows, syn_rows, load):
    clean = {}
    groups = {}
    for row in rows:
        if row[1] == load:
            groups.setdefault((row[0], row[2]), []).append(row[15])
    for key, values in groups.items():
        clean[key] = median(values)
    judged = {row[0]: number(row[3]) / number(row[1]) for row in syn_rows if row[3] != "-"}
    out = []
    for first, second, profile, want, comparison in GOALS:
        what = "%s / %s, %s" % (first, second, profile)
        x, y = clean.get((profile, first)), clean.get((profile, second))
        if x is None or y is None or number(y) <= 0:
            out.append("  %-50s %6s   goal %s %.2f   (not measured)" % (what, "-", comparison, want))
            continue
        ratio = number(x) / number(y)
        met = ratio >= want if comparison == ">=" else ratio <= want
        line = "  %-50s %6.2f   goal %s %.2f   %-6s" % (what, ratio, comparison, want, "met" if met else "MISSED")
        ratios = paired_ratios(rows, load, profile, first, second)
        out.append(line + ("   " + spread(ratios, want, comparison) if ratios else ""))
    for mode in SYN_MODES:
        what = "syn: %s judged per listed address" % mode
        cached = "cache" in mode
        if mode not in judged:
            out.append("  %-50s %6s   %s" % (what, "-", "goal <= 1      (not measured)" if cached else "(not measured)"))
        elif cached:
            out.append("  %-50s %6.2f   goal <= 1      %s" % (what, judged[mode], "met" if judged[mode] <= 1 else "MISSED"))
        else:
            out.append("  %-50s %6.2f   (no cache, for comparison)" % (what, judged[mode]))
    bad = bad_runs(rows, syn_rows, short=True)
    verdict = "met" if not bad else "VIOLATED"
    out.append("  0 listed packets delivered and 0 unlisted lost in every filtering mode and profile: " + verdict)
    out += ["    " + line for line in bad]
    return out


def main(arguments):
    if len(arguments) == 5 and arguments[0] == "mix":
        lines = mix_table(arguments[1], arguments[2].split(), arguments[3].split(), read_rows(arguments[4]))
    elif len(arguments) == 2 and arguments[0] == "syn":
        lines = syn_table(read_rows(arguments[1]))
    elif len(arguments) == 4 and arguments[0] == "goals":
        load = "max" if "max" in arguments[1].split() else "fixed"
        lines = goals(read_rows(arguments[2]), read_rows(arguments[3]), load)
    elif len(arguments) == 3 and arguments[0] == "bad":
        lines = bad_runs(read_rows(arguments[1]), read_rows(arguments[2]))
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
