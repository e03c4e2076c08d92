#!/usr/bin/env bash
# Benchmarks: the hub against bare baselines, alternately, in one run.
#   scripts/bench.sh [quick|full] [--only NAME]
# quick takes a few minutes, full up to twenty. Results: target/bench/
# (results.json, results.md, machine.txt) and the table on standard output.
# See BENCHMARKS.md for what each scenario does.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-quick}"
shift || true
case "$mode" in
    quick | full) ;;
    *) echo "usage: scripts/bench.sh [quick|full] [--only NAME]" >&2; exit 2 ;;
esac
out=target/bench
mkdir -p "$out"
step() { printf '\n==> %s\n' "$*"; }

step "machine"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "cores: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "open files: soft $(ulimit -Sn), hard $(ulimit -Hn)"
    echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2 " kB"}')"
    # One second of write + fsync: what a commit costs on this disk.
    probe="$out/fsync-probe"
    fsyncs=$(python3 - "$probe" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
count, end = 0, time.monotonic() + 1.0
while time.monotonic() < end:
    os.write(fd, b"x" * 512)
    os.fsync(fd)
    count += 1
os.close(fd)
os.unlink(sys.argv[1])
print(count)
EOF
)
    echo "fsync per second: $fsyncs"
} | tee "$out/machine.txt"

# Clients and the hub hold many sockets: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

step "building in release (hub and bench)"
cargo build --release --locked -p hub -p storehub-tests --bin storehub --bin bench

if [ -x scripts/ensure-postgres.sh ]; then
    step "PostgreSQL"
    scripts/ensure-postgres.sh
fi

step "running the $mode scenarios (progress below)"
target/release/bench run --mode "$mode" --hub target/release/storehub --out "$out" "$@"
echo
echo "Written: $out/results.json, $out/results.md, $out/machine.txt"
