#!/usr/bin/env bash
# bench-bulk.sh: what a bulk run of N creates costs, with a --journal and
# stdout on a file (both synced), against fake-server in another process: the
# connections it opens and the syncs it makes (connect and fdatasync calls
# under strace, in a run of their own) and its CPU per request (/usr/bin/time,
# in another run).
# Usage: scripts/bench-bulk.sh [N] [CONCURRENCY]; needs strace and GNU time.
set -euo pipefail
n=${1:-100000}
concurrency=${2:-8}
port=18765
for tool in strace /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-bulk needs $tool (apt-get install strace time)" >&2; exit 2; }
done
dir=$(mktemp -d)
fake=
trap 'kill $fake 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/signintokens" ./cmd/signintokens
seq -f 'user_%07g' 1 "$n" > "$dir/users.txt"
export CLERK_SECRET_KEY=sk_test_bench CLERK_API_URL=http://127.0.0.1:$port/v1

start_fake() {
	[ -z "$fake" ] || { kill "$fake"; wait "$fake" 2>/dev/null || true; }
	"$dir/signintokens" fake-server --any-user --addr 127.0.0.1:$port --secret-key "$CLERK_SECRET_KEY" >/dev/null 2>&1 &
	fake=$!
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return
		sleep 0.1
	done
	echo "fake-server did not start" >&2
	exit 1
}

run() {
	rm -f "$dir/run.jsonl"
	"$@" create --from "$dir/users.txt" --journal "$dir/run.jsonl" --rate 0 --concurrency "$concurrency" > "$dir/out.jsonl" 2> "$dir/err"
}

start_fake
run strace -f -e trace=connect,fdatasync -o "$dir/trace" "$dir/signintokens"
echo "connections opened: $(grep -c "sin_port=htons($port)" "$dir/trace") for $n creates at --concurrency $concurrency"
echo "fdatasync calls: $(grep -c 'fdatasync(' "$dir/trace") (the journal and stdout, a file)"

start_fake
run /usr/bin/time -f '%U %S %e' "$dir/signintokens"
read -r user sys wall < <(tail -1 "$dir/err")
tail -2 "$dir/err" | head -1
awk -v u="$user" -v s="$sys" -v w="$wall" -v n="$n" \
	'BEGIN { printf "CPU per request: %.1f µs (%s s user + %s s system), wall %s s\n", (u + s) * 1e6 / n, u, s, w }'
