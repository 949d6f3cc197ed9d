"""CPU accounting from Linux /proc: who spent the machine's time (figures are left out
elsewhere)."""

import os
import resource
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds) of a process, with those of its children
    that ended and were waited for (a PostgreSQL backend's time moves to the postmaster)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), sum(int(t) for t in fields[11:15]) / CLOCK_TICKS


def machine_busy_share(seconds: float = 1.0) -> float | None:
    """Share of all cores' time spent busy over the next `seconds`."""
    if not Path("/proc/stat").exists():
        return None

    def ticks() -> tuple[int, int]:
        values = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    busy, total = ticks()
    time.sleep(seconds)
    busy_after, total_after = ticks()
    return (busy_after - busy) / max(total_after - total, 1)


def cpu_snapshot(server_pid: int, postmaster_pid: int | None) -> dict[str, float] | None:
    """CPU seconds used so far by the gunicorn workers, the database server's processes,
    finished child processes of this script (wrk), and the whole machine (busy, all cores).
    The database figure stays 0 when its server does not run on this machine."""
    if not Path("/proc/stat").exists():
        return None
    app = database = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = proc_stat(entry.name)
        if stat is None:
            continue
        name, parent, seconds = stat
        if server_pid in (parent, int(entry.name)):
            app += seconds
        elif postmaster_pid in (parent, int(entry.name)):
            database += seconds
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(t) for t in cpu]
    idle = ticks[3] + ticks[4]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "app": app,
        "database": database,
        "load_generator": children.ru_utime + children.ru_stime,
        "machine_busy": (sum(ticks[:8]) - idle) / CLOCK_TICKS,
        "machine_total": sum(ticks[:8]) / CLOCK_TICKS,
    }


def cpu_per_request(before, after, requests: int, wall: float) -> dict[str, float] | None:
    if before is None or after is None or not requests:
        return None
    spent = {key: max(after[key] - before[key], 0.0) for key in before}
    ours = spent["app"] + spent["database"] + spent["load_generator"]
    return {
        "app_ms": 1000 * spent["app"] / requests,
        "database_ms": 1000 * spent["database"] / requests,
        "load_generator_ms": 1000 * spent["load_generator"] / requests,
        "other_ms": 1000 * max(spent["machine_busy"] - ours, 0) / requests,
        "machine_busy_pct": 100 * spent["machine_busy"] / max(spent["machine_total"], 1e-9),
        # Busy time of no process of the benchmark: the kernel's own work, or other load.
        "other_pct": 100 * max(spent["machine_busy"] - ours, 0) / max(spent["machine_total"], 1e-9),
        "wall_s": wall,
    }
