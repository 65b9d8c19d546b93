#!/usr/bin/env python3
"""Write the Markdown report of a bench/run output folder (and its gnuplot PNGs).

    report.py OUT            write OUT/report.md and the plots
    report.py OUT --check    the same, and exit 1 if a benchmark did not produce numbers
    report.py OUT --results bench/RESULTS.md
                             write the report (without images) as bench/RESULTS.md
"""
import json
import os
import subprocess
import sys


def num(v, digits=3):
    if v is None or (isinstance(v, (int, float)) and v < 0 and v != int(v) and False):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return "—" if v == -1 else f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "—"
        if v == -1:
            return "—"
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        if a == 0:
            return "0"
        return f"{v:.{digits}f}"
    return str(v)


def dist(d, keys=("p50", "p99", "max")):
    if not d or not d.get("n"):
        return "—"
    return " / ".join(num(float(d[k])) for k in keys)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out) + "\n"


def targets_md(res):
    t = res.get("targets") or []
    if not t:
        return ""
    rows = []
    for x in t:
        rows.append([x["what"], num(x["value"]), f'{x["op"]} {num(x["limit"])} {x.get("unit", "")}',
                     "**met**" if x["met"] else "**missed**"])
    return table(["target", "measured", "wanted", ""], rows)


def ratios_md(res):
    r = res.get("ratios") or {}
    if not r:
        return ""
    return table(["ratio", "value"], [[k.replace("_", " "), num(v)] for k, v in r.items()])


# ------------------------------------------------------------------ benchmarks ----

def r_signin(res):
    p, b, base = res["params"], res["bidopen"], res["baseline"]
    start = ("all started at once" if not p.get("ramp_ms")
             else f'started evenly over {p["ramp_ms"] / 1000:g} s')
    md = (f'{p["bidders"]:,} bidders over {p["openings"]} openings, from {p["load_processes"]} load '
          f"processes, {start}: TLS, `auth` with the signing and encryption chains, "
          "`join`, `register`, `signin` (mixed RSA-2048, P-256 and SM2 signing certificates, "
          "3-level chains, CRLs required). The baseline does the same chain verifications "
          "(X509_verify_cert, same CRL policy), the same three signatures made and checked per "
          "bidder, and as many TLS 1.3 handshakes over loopback, in plain OpenSSL on 2 threads.\n\n")
    rows = [
        ["bidders signed in (failed, unfinished)",
         f'{num(b["completed"])} ({num(b["failed"])}, {num(b.get("unfinished", 0))})', num(p["bidders"])],
        ["reconnects; retries after E_STORE_UNAVAILABLE / E_STORE_PENDING", f'{num(b["reconnects"])}; {num(b.get("store_unavailable_retries", 0))}', ""],
        ["connection attempts dropped (clients); refused at accept (`--max-unauthed`); `E_AUTH_TIMEOUT`",
         f'{num(b.get("client_drops"))}; {num(b.get("server_refused_unauthed"))}; {num(b.get("server_auth_timeouts"))}', ""],
        ["time until all signed in (s)", num(b["wall_s"]), num(base.get("wall_s"))],
        ["sign-ins per second", num(b["rate_per_s"]), num(base.get("rate"))],
        ["server CPU (s)", num(b["server_cpu_s"]),
         f'{num((base.get("cpu_server_crypto_s") or 0) + (base.get("cpu_server_tls_s") or 0))} (server side)'],
        ["server CPU per bidder (ms)", num(b["server_cpu_ms_per_bidder"]),
         num(base.get("server_side_cpu_ms_per_bidder"))],
        ["client-side CPU in the baseline (s)", "",
         num((base.get("cpu_client_crypto_s") or 0) + (base.get("cpu_client_tls_s") or 0))],
        ["Redis CPU (s)", num(b["redis_cpu_s"]), ""],
        ["signed in after the start, p50 / p99 / max (ms)", dist(b["completion_since_start_ms"]), ""],
        ["`signin` round trip, p50 / p99 / max (ms)", dist(b.get("signin_rtt_ms")), ""],
        ["`register` round trip, p50 / p99 / max (ms)", dist(b.get("register_rtt_ms")), ""],
        ["connect to joined, p50 / p99 / max (ms)", dist(b["connect_to_joined_ms"]), ""],
        ["server RSS before / after (MiB)", f'{num(b["rss_before_kib"] / 1024)} / {num(b["rss_after_kib"] / 1024)}', ""],
    ]
    for alg, d in (b.get("per_alg_total_ms") or {}).items():
        rows.append([f"{alg}: start to signed in, p50 / p99 (ms)", dist(d, ("p50", "p99")), ""])
    md += table(["", "bidopen", "baseline (plain OpenSSL)"], rows)
    return md


def fan_rows(runs, key, f):
    return [f(r) if r.get("ran") else "—" for r in runs]


def r_fanout(res):
    p, b, base = res["params"], res["bidopen"], res["baseline"]
    md = ("One opening after its deadline; the host pauses and resumes it "
          f'{p["rounds"]} times; every observer stamps each `paused`/`resumed` event '
          "(CLOCK_REALTIME, one machine); the server's CPU comes from /proc. "
          f'Frame: {p["frame_bytes"]} bytes of payload. Observers are raw libwebsockets clients '
          f'({p["per_process"]:,} per load process). Delays are counted from the first recipient '
          "of each round (the floor's own reference, its first write, is a few µs earlier); "
          "bidopen's are also given from the host's acknowledgement and from the moment the host "
          "sent the command (which includes the Redis append with fsync).\n\n")
    if p.get("server_nodes", 1) > 1:
        md += f'bidopen ran as {p["server_nodes"]} server processes sharing one Redis.\n\n'
    bo = b["sizes"]
    ns = [r["n"] for r in bo]
    head = ["N"] + [f"{n:,}" for n in ns]
    rows = [
        ["bidopen: connected (failed)"] + [f'{num(r["connected"])} ({num(r["failed"])})' for r in bo],
        ["bidopen: CPU per broadcast (ms)"] + fan_rows(bo, "", lambda r: num(r["cpu_ms_per_broadcast"])),
        ["bidopen: idle CPU in the same time (ms)"] + fan_rows(bo, "", lambda r: num(r.get("idle_cpu_ms_same_time"))),
        ["bidopen: reach 99% / 100% (ms)"] + fan_rows(bo, "", lambda r: f'{num(r["reach99_ms"])} / {num(r["reach100_ms"])}'),
        ["bidopen: delay after first, p50 / p99 / max (ms)"] + fan_rows(bo, "", lambda r: dist(r["delay_after_first_ms"])),
        ["bidopen: delay after the host's ack, p50 / p99 / max (ms)"] + fan_rows(bo, "", lambda r: dist(r["delay_after_reference_ms"])),
        ["bidopen: delay after the command was sent, p50 / p99 / max (ms)"] + fan_rows(bo, "", lambda r: dist(r.get("delay_after_command_sent_ms"))),
    ]
    fl = base.get("floor") or []
    if fl:
        rows += [
            ["floor: connected"] + [num(r["connected"]) for r in fl],
            ["floor: CPU per broadcast (ms)"] + fan_rows(fl, "", lambda r: num(r["cpu_ms_per_broadcast"])),
            ["floor: reach 99% / 100% (ms)"] + fan_rows(fl, "", lambda r: f'{num(r["reach99_ms"])} / {num(r["reach100_ms"])}'),
            ["floor: delay after first, p50 / p99 / max (ms)"] + fan_rows(fl, "", lambda r: dist(r["delay_after_first_ms"])),
            ["floor: delay after its first write, p99 (ms)"] + fan_rows(fl, "", lambda r: dist(r["delay_after_reference_ms"], ("p99",))),
        ]
    md += table(head, rows)
    mi = base.get("mirror") or []
    if mi:
        md += "\nlibwebsockets-test-server (Debian 4.1.6), `lws-mirror-protocol`, same TLS certificate, same frame size:\n\n"
        md += table(["N"] + [f'{r["n"]:,}' for r in mi], [
            ["connected"] + [num(r["connected"]) for r in mi],
            ["CPU per broadcast (ms)"] + fan_rows(mi, "", lambda r: num(r["cpu_ms_per_broadcast"])),
            ["reach 99% / 100% (ms)"] + fan_rows(mi, "", lambda r: f'{num(r["reach99_ms"])} / {num(r["reach100_ms"])}'),
            ["delay after first, p50 / p99 / max (ms)"] + fan_rows(mi, "", lambda r: dist(r["delay_after_first_ms"])),
            ["delay after the publisher's send, p50 / p99 (ms)"] + fan_rows(mi, "", lambda r: dist(r["delay_after_reference_ms"], ("p50", "p99"))),
        ])
    elif "mirror_program" in base:
        md += "\nThe mirror baseline did not run (libwebsockets-test-server missing).\n"
    return md


def r_decrypt(res):
    b, base = res["bidopen"]["sizes"], res["baseline"]["sizes"]
    md = ("One bidder, one sealed bid (AES-256-GCM AuthEnvelopedData to a P-256 encryption "
          "certificate; the package holds one sparse document of the size shown), uploaded "
          "through `submit_*`, opened by the server after `decrypt_start` and the bidder's "
          "`decrypt_response` (CEK handoff). Time: from the host's `decrypt_start` "
          "acknowledgement until the bidder's `decrypt_response` is acknowledged (the server "
          "has checked the signature, the handoff and the key commitment, decrypted and "
          "written the plaintext, verified the package and appended `bid_decrypted`). Peak "
          "memory: the server's VmHWM, reset just before. Baseline: EVP AES-256-GCM over the "
          "same envelope file, read and written in 64 KiB pieces, one thread (no parsing, no "
          "hashing, no package check: the floor of the bulk work).\n\n")
    rows = []
    for r, q in zip(b, base):
        if not r.get("ran"):
            rows.append([r["label"], "not run: " + r.get("note", "")] + [""] * 7)
            continue
        rows.append([r["label"], num(r["mib_per_s"]), num(r["wall_s"]), num(r["peak_rss_mib"]),
                     num(q.get("mib_per_s")), num(q.get("wall_s")),
                     num(r["mib_per_s"] / q["mib_per_s"]) if q.get("mib_per_s", 0) > 0 else "—",
                     num(q.get("openssl_cms_peak_rss_mib")) if "openssl_cms_peak_rss_mib" in q else "not run",
                     num(r["upload_mib_per_s"])])
    md += table(["bid", "bidopen MiB/s", "bidopen s", "server peak RSS MiB", "baseline MiB/s",
                 "baseline s", "ratio", "`openssl cms -decrypt` peak RSS MiB", "upload MiB/s (setup)"], rows)
    for r in b:
        if r.get("ran"):
            md += (f'\n{r["label"]}: server CPU {num(r["server_cpu_s"])} s, worker time in the '
                   f'server log {num(r["server_worker_ms_sum"] / 1000)} s, RSS before '
                   f'{num(r["rss_before_mib"])} MiB.')
    return md + "\n"


def r_many(res):
    p, b, base = res["params"], res["bidopen"], res["baseline"]
    md = (f'{p["bidders"]} bidders with a {num(p["bid_mib"])} MiB bid each in one opening; the host '
          "starts decryption, every bidder answers its request at once. Meanwhile an observer "
          "connection sends a `time` request every 20 ms (also for 1 s before, for the idle "
          "figures). Baseline: the same envelope bytes through EVP AES-256-GCM on 2 threads "
          "(the server opens at most 2 bids at once).\n\n")
    rows = [
        ["bids opened (failed)", f'{num(b["decrypted"])} ({num(b["failed"])})', ""],
        ["decrypt_start to all open (s)", num(b["wall_s"]), num(base.get("wall_s"))],
        ["throughput (MiB/s)", num(b["mib_per_s"]), num(base.get("mib_per_s"))],
        ["each bid open after the start, p50 / p99 / max (ms)", dist(b.get("bid_open_after_start_ms")), ""],
        ["`time` round trip, p50 / p99 / max (ms)", dist(b.get("time_rtt_during_ms")) + " (during)",
         dist(base.get("time_rtt_idle_ms")) + " (idle, before)"],
        ["server CPU (s)", num(b["server_cpu_s"]), num(base.get("cpu_s"))],
        ["server peak RSS (MiB)", num(b["peak_rss_mib"]), ""],
        ["upload (setup, MiB/s)", num(b["upload_mib_per_s"]), ""],
    ]
    md += table(["", "bidopen", "baseline"], rows)
    return md


def r_memory(res):
    p, b, base = res["params"], res["bidopen"], res["baseline"]
    md = (f'{p["bidders"]:,} bidder connections over TLS, authenticated with their certificates '
          f'and joined to one of {p["openings"]} openings, then idle for 12 s (the server trims '
          "malloc's free pages every 10 s after a burst). Per connection: "
          "the server's RSS after minus before, divided by the connections. Baseline: a plain "
          "OpenSSL server holding as many TLS 1.3 connections (after one small exchange each "
          "way), with default buffers and with SSL_MODE_RELEASE_BUFFERS. Kernel socket memory "
          "(/proc/net/sockstat, whole machine, both ends) is shown apart.\n\n")
    d, r = base.get("openssl_default", {}), base.get("openssl_release_buffers", {})
    rows = [
        ["connections", num(b["completed"]), num(d.get("connections")), num(r.get("connections"))],
        ["RSS before / after (MiB)", f'{num(b["rss_before_kib"] / 1024)} / {num(b["rss_after_kib"] / 1024)}',
         f'{num(d.get("rss_before_kib", -1) / 1024)} / {num(d.get("rss_after_kib", -1) / 1024)}',
         f'{num(r.get("rss_before_kib", -1) / 1024)} / {num(r.get("rss_after_kib", -1) / 1024)}'],
        ["user-space KiB per connection", num(b["kib_per_conn"]), num(d.get("kib_per_conn")), num(r.get("kib_per_conn"))],
        ["kernel TCP KiB per connection (both ends)", num(b["kernel_tcp_kib_per_conn"]),
         num(d.get("kernel_tcp_kib_per_conn")), num(r.get("kernel_tcp_kib_per_conn"))],
        ["peak RSS while connecting (MiB)", num(b["hwm_kib"] / 1024), "", ""],
        ["start to joined, p50 / p99 / max (ms)", dist(b["completion_since_start_ms"]), "", ""],
    ]
    md += table(["", "bidopen-server", "OpenSSL, default", "OpenSSL, RELEASE_BUFFERS"], rows)
    return md


def r_opening(res):
    p, b, base = res["params"], res["bidopen"], res["baseline"]
    t = b.get("timeline_ms_after_deadline") or {}
    md = (f'A whole opening with {p["bidders"]} bidders (bids of {num(p["bid_mib"])} MiB), '
          "registered, signed in and submitted before the deadline. After the deadline the "
          "host acts as soon as it may: `decrypt_start`; every bidder answers its request at "
          "once; then `announce {all}`, `confirm_open`; every bidder confirms the record at "
          "once (a signature the server checks); `close`; the server's signed chain head "
          "after `opening_closed` is the signed record. Times are ms after the deadline, on "
          "the server's clock (events' `ts`) or this machine's (the same clock). Baseline: "
          "the bulk decryption alone (the same envelope bytes through EVP AES-256-GCM on 2 "
          "threads).\n\n")
    rows = [[k.replace("_", " "), num(v) if not isinstance(v, str) else v] for k, v in t.items()]
    md += table(["step", "ms after the deadline"], rows)
    md += "\n" + table(["", "bidopen", "baseline"], [
        ["deadline to the end of decryption (s)", num(b.get("deadline_to_decrypted_s")), num(base.get("wall_s"))],
        ["deadline to the signed record (s)", num(b.get("deadline_to_signed_record_s")), ""],
        ["bidders who confirmed", num(b.get("bidders_confirmed")), ""],
        ["bids opened (failed)", f'{num(b["decrypted"])} ({num(b["failed"])})', ""],
        ["server CPU (s)", num(b["server_cpu_s"]), num(base.get("cpu_s"))],
        ["server peak RSS (MiB)", num(b["peak_rss_mib"]), ""],
    ])
    return md


RENDER = {"signin": r_signin, "fanout": r_fanout, "decrypt": r_decrypt, "many": r_many,
          "memory": r_memory, "opening": r_opening}
TITLES = {"signin": "1. Sign-in burst", "fanout": "2. Live fan-out", "decrypt": "3. Bulk decryption",
          "many": "4. Many decrypting at once", "memory": "5. Memory per connection",
          "opening": "6. A whole opening"}
ORDER = ["signin", "fanout", "decrypt", "many", "memory", "opening"]


# ------------------------------------------------------------------- plots ----

def plot(outdir, sub, spec):
    """Write <sub>/<name>.gp and run gnuplot; returns the PNG path relative to outdir."""
    d = os.path.join(outdir, sub)
    series = [s for s in spec.get("series", []) if os.path.exists(os.path.join(d, s["file"]))
              and os.path.getsize(os.path.join(d, s["file"])) > 0]
    if not series:
        return None
    png = f'{spec["name"]}.png'
    gp = [f'set terminal pngcairo size 960,540 font "sans,10"',
          f'set output "{png}"',
          f'set title "{spec["title"]}" noenhanced',
          f'set xlabel "{spec.get("xlabel", "")}" noenhanced',
          f'set ylabel "{spec.get("ylabel", "")}" noenhanced',
          "set grid", "set key bottom right noenhanced"]
    if spec.get("logx"):
        gp.append("set logscale x")
    if spec.get("logy"):
        gp.append("set logscale y")
        gp.append("set key top left noenhanced")
    style = spec.get("style", "lines")
    parts = []
    for s in series:
        using = s.get("using", "1:2")
        parts.append(f'"{s["file"]}" using {using} with {style} lw 2 title "{s["title"]}"')
    gp.append("plot " + ", \\\n     ".join(parts))
    with open(os.path.join(d, spec["name"] + ".gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    try:
        subprocess.run(["gnuplot", spec["name"] + ".gp"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        sys.stderr.write(f"report: gnuplot failed for {sub}/{spec['name']}: {e}\n")
        return None
    return f"{sub}/{png}"


# ------------------------------------------------------------------ report ----

def produced_numbers(name, res):
    b = res.get("bidopen", {})
    if name in ("signin", "memory"):
        return b.get("completed", 0) > 0 and b.get("wall_s", -1) >= 0
    if name == "fanout":
        return any(r.get("ran") for r in b.get("sizes", []))
    if name == "decrypt":
        return all(r.get("ran") or "disk" in r.get("note", "") for r in b.get("sizes", [])) and b.get("sizes")
    return bool(b.get("ran")) or "disk" in b.get("note", "")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    check = "--check" in sys.argv
    results_path = None
    if "--results" in sys.argv:
        results_path = sys.argv[sys.argv.index("--results") + 1]
    m = json.load(open(os.path.join(outdir, "machine.json")))
    runs = {}
    if os.path.exists(os.path.join(outdir, "runs.txt")):
        for line in open(os.path.join(outdir, "runs.txt")):
            parts = line.split()
            if len(parts) == 3:
                runs[parts[0]] = (int(parts[1]), int(parts[2]))
    found = []
    for sub in sorted(os.listdir(outdir)):
        p = os.path.join(outdir, sub, "result.json")
        if os.path.isfile(p):
            try:
                res = json.load(open(p))
            except ValueError as e:
                sys.stderr.write(f"report: {p}: {e}\n")
                found.append((sub, None))
                continue
            found.append((sub, res))
    found.sort(key=lambda x: (ORDER.index(x[1]["name"]) if x[1] and x[1].get("name") in ORDER else 99,
                              int(x[0].split("-")[-1]) if x[0].split("-")[-1].isdigit() else 0))
    ok = True
    lines = [f'# bidopen benchmarks: {m["date"]}\n']
    dirty = f' plus uncommitted changes in {m["dirty_files"]} files' if m.get("dirty_files") else ""
    lines.append(table(["", ""], [
        ["machine", f'{m["cpu"]}, {m["cores"]} cores, {m["mem_gib"]} GiB, {m["os"]}, kernel {m["kernel"]}'],
        ["commit", f'{m["commit"]}{dirty}'],
        ["build", f'{m.get("build_type", "")}{", sanitizers on" if m.get("sanitized") == "ON" else ""}; OpenSSL {m.get("openssl", "")}'],
        ["run", f'`bench/run --{m["mode"]}`; load average before {m["load_before"]}, after {m.get("load_after", "?")}'],
    ]))
    lines.append("\nEverything runs on this one machine over loopback: load generators, servers "
                 "and baselines share the same cores (and, on a shared machine, with whatever else "
                 "runs). Each baseline ran in the same run, just before or after what it is compared "
                 "with. Ratios compare bidopen with its baseline; targets are the issue's.\n")
    # the summary of targets
    summary = []
    for sub, res in found:
        if not res:
            continue
        for t in res.get("targets") or []:
            summary.append([TITLES.get(res["name"], sub) + (f" ({sub})" if sub != res["name"] else ""),
                            t["what"], num(t["value"]), f'{t["op"]} {num(t["limit"])} {t.get("unit", "")}',
                            "met" if t["met"] else "**missed**"])
    if summary:
        lines.append("\n## Targets\n\n" + table(["benchmark", "target", "measured", "wanted", ""], summary))
    for sub, res in found:
        if not res:
            ok = False
            lines.append(f"\n## {sub}\n\nresult.json is unreadable.\n")
            continue
        name = res.get("name", sub)
        title = TITLES.get(name, name) + (f" ({sub})" if sub != name else "")
        rc, secs = runs.get(sub, (0, 0))
        lines.append(f"\n## {title}\n\n")
        if secs:
            lines.append(f"Ran for {secs} s (exit {rc}).\n\n")
        try:
            lines.append(RENDER.get(name, lambda r: "```\n" + json.dumps(r, indent=1) + "\n```\n")(res))
        except (KeyError, TypeError, ZeroDivisionError) as e:
            lines.append(f"(could not render: {e!r})\n\n```\n{json.dumps(res, indent=1)[:4000]}\n```\n")
        r = ratios_md(res)
        if r:
            lines.append("\n" + r)
        t = targets_md(res)
        if t:
            lines.append("\n" + t)
        pngs = []
        if m.get("gnuplot"):
            for spec in res.get("plots") or []:
                p = plot(outdir, sub, spec)
                if p:
                    pngs.append((spec["title"], p))
        for title_, p in pngs:
            lines.append(f"\n![{title_}]({p})\n")
        exits = [res.get("bidopen", {}).get("server_exit")]
        exits += [r.get("server_exit") for r in res.get("bidopen", {}).get("sizes", []) if isinstance(r, dict)]
        bad = [e for e in exits if e not in (None, 0)]
        if bad:
            lines.append(f"\nNote: bidopen-server did not exit cleanly at the end (wait status {bad[0]}); "
                         "see the server log in this benchmark's folder.\n")
        if not produced_numbers(name, res):
            ok = False
            lines.append("\n**This benchmark did not produce its numbers.**\n")
    missing = [s for s in runs if not any(s == f[0] for f in found)]
    for s in missing:
        ok = False
        lines.append(f"\n## {s}\n\nNo result (exit {runs[s][0]}); see {s}.log.\n")
    text = "".join(lines)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(text)
    if results_path:
        import re
        body = re.sub(r"\n!\[[^\]]*\]\([^)]*\)\n", "\n", text)
        head = ("<!-- Written by bench/run --full (bench/report.py); the plots are in the run's "
                f"folder, bench/out/{os.path.basename(outdir)}/. -->\n")
        with open(results_path, "w") as f:
            f.write(head + body)
    if check and not ok:
        sys.stderr.write("report: some benchmarks did not produce their numbers\n")
        sys.exit(1)
    if check and not found:
        sys.stderr.write("report: no results\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
