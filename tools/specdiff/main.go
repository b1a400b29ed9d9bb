// Command specdiff tells how the operations of openapi.yaml differ from
// those of a Clerk OpenAPI document, with oasdiff (github.com/oasdiff/oasdiff)
// as the diff engine, and fails on any difference that the allow-list does
// not name. It is a module of its own, so that oasdiff (and the Go release
// it needs) stays out of the library's go.mod.
//
//	go run . [-allow spec-allow.yaml] [-match-path REGEXP] OURS UPSTREAM
//
// It reports two kinds of finding: every change oasdiff's checker names
// (with its id and level: error, warning or info), and every leaf of
// oasdiff's structural diff of the paths, security and servers, so that a
// difference no rule names is still seen. Descriptions, examples, titles,
// summaries and tags are left out; extensions are kept, since the generated
// client reads ours (x-creates-credential, x-idempotent). Each finding is allowed when
// a regular expression of the allow-list matches its one-line text.
//
// Exit status: 0, nothing but allowed differences; 1, a difference to look
// at; 2, bad usage or a file that cannot be read, which the message says.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spec-diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowPath := fs.String("allow", "spec-allow.yaml", "the allow-list: deliberate differences, each with its reason")
	match := fs.String("match-path", "", "compare only the paths that match this regular expression (default: the paths OURS has)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spec-diff [-allow FILE] [-match-path REGEXP] OURS UPSTREAM")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "spec-diff: usage error: want two OpenAPI documents, ours and upstream's")
		fs.Usage()
		return 2
	}
	allow, err := readAllowList(*allowPath)
	if err != nil {
		fmt.Fprintf(stderr, "spec-diff: cannot read the allow-list: %v\n", err)
		return 2
	}
	findings, err := compare(fs.Arg(0), fs.Arg(1), *match)
	var le *loadError
	switch {
	case errors.As(err, &le):
		fmt.Fprintf(stderr, "spec-diff: cannot read %s: %v\n", le.path, le.err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "spec-diff: %v\n", err)
		return 2
	}
	return report(stdout, findings, allow)
}

// report prints each finding, allowed or not, and returns the exit status.
func report(w io.Writer, findings []finding, allow allowList) int {
	var allowedN, different int
	for _, f := range findings {
		if a := allow.match(f); a != nil {
			allowedN++
			fmt.Fprintf(w, "allowed    %s\n           because: %s\n", f, a.Why)
			continue
		}
		different++
		fmt.Fprintf(w, "DIFFERENT  %s\n", f)
	}
	fmt.Fprintf(w, "spec-diff: %d differences, %d allowed, %d to look at\n", len(findings), allowedN, different)
	if different > 0 {
		return 1
	}
	return 0
}
