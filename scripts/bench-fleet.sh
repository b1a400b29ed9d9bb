#!/usr/bin/env bash
# bench-fleet.sh: four create --from runs of 250 users each, sharing one key,
# at --rate 90 each, against fake-server limited to 100 requests a second:
# the 429 answers and the wall time, with the rate shared through one
# redis-server (--redis-url) and without. The shared floor is 1,000/90 s.
# Usage: scripts/bench-fleet.sh; needs redis-server.
set -euo pipefail
command -v redis-server >/dev/null || { echo "bench-fleet needs redis-server (apt-get install redis-server)" >&2; exit 2; }
fake_port=18767 redis_port=18768
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/signintokens" ./cmd/signintokens
export CLERK_SECRET_KEY=sk_test_fleet CLERK_API_URL=http://127.0.0.1:$fake_port/v1
redis-server --port $redis_port --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
for p in 1 2 3 4; do seq -f "user_${p}_%04g" 1 250 > "$dir/users$p.txt"; done

fleet() { # fleet NAME [FLAGS...]: the four runs at once, against a new fake
	"$dir/signintokens" fake-server --any-user --addr 127.0.0.1:$fake_port --secret-key "$CLERK_SECRET_KEY" \
		--rate-limit 100/1s --log 2> "$dir/fake.log" >/dev/null &
	local fake=$!
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$fake_port) 2>/dev/null && break; sleep 0.1; done
	local start end runs=()
	start=$(date +%s.%N)
	for p in 1 2 3 4; do
		"$dir/signintokens" create --from "$dir/users$p.txt" --rate 90 --concurrency 4 "${@:2}" \
			> "$dir/out$p.jsonl" 2> "$dir/err$p" &
		runs+=($!)
	done
	local failed=0
	for r in "${runs[@]}"; do wait "$r" || failed=$((failed + 1)); done
	end=$(date +%s.%N)
	kill $fake; wait $fake 2>/dev/null || true
	local tokens
	tokens=$(cat "$dir"/out*.jsonl | grep -c '"status":"pending"' || true)
	printf '%-14s %4d tokens, %4d answers of 429, %s s wall (floor %.2f s), %d runs failed\n' "$1" "$tokens" \
		"$(grep -c ' 429 ' "$dir/fake.log" || true)" "$(echo "$end - $start" | bc)" "$(echo "1000 / 90" | bc -l)" "$failed"
}

fleet "with Redis" --redis-url "redis://127.0.0.1:$redis_port"
fleet "without Redis"
