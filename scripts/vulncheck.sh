#!/usr/bin/env bash
# vulncheck.sh GOVULNCHECK VULNDB_VERSION DB
# Runs govulncheck on the module and its tools' modules. DB is the
# vulnerability database: a URL (https://vuln.go.dev, as the hosted workflow
# passes) or "local", a database built here by x/vulndb's cmd/gendb from the
# OSV files of x/vulndb at VULNDB_VERSION, which the Go module proxy serves.
set -euo pipefail
govulncheck=$1 vulndb_version=$2 db=$3
go=${GO:-go}

if [ "$db" = local ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	echo "vulncheck: building a local database from golang.org/x/vulndb@$vulndb_version" >&2
	src=$(cd "$work" && GOFLAGS=-mod=mod $go mod download -json "golang.org/x/vulndb@$vulndb_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$src" ] || { echo "vulncheck: could not download golang.org/x/vulndb@$vulndb_version" >&2; exit 1; }
	# gendb reads the OSV files from a git repository (it dates entries by
	# their commits); the module holds them without one.
	mkdir -p "$work/repo/data"
	cp -R "$src/data/osv" "$work/repo/data/osv"
	chmod -R u+w "$work/repo"
	git -C "$work/repo" init -q
	git -C "$work/repo" add data/osv
	git -C "$work/repo" -c user.name=vulncheck -c user.email=vulncheck@localhost \
		commit -q -m "golang.org/x/vulndb@$vulndb_version"
	(cd "$work" && GOFLAGS=-mod=mod $go run "golang.org/x/vulndb/cmd/gendb@$vulndb_version" \
		-repo "$work/repo" -out "$work/db")
	db="file://$work/db"
fi

status=0
for dir in . tools/specdiff contract/go; do
	echo "vulncheck: $dir" >&2
	(cd "$dir" && $go run "$govulncheck" -db "$db" ./...) || status=1
done
exit $status
