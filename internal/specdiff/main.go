// Command specdiff reports how the sign-in token operations, and the schemas
// they use, differ between this module's openapi.yaml and a Clerk OpenAPI
// document, such as a newer bapi/YYYY-MM-DD.yml from Clerk's openapi-specs.
//
//	go run ./internal/specdiff openapi.yaml path/to/clerk-bapi.yml
//
// It prints one line per difference (statuses, parameters, request and
// response body properties, required properties, enum values, types) and
// exits 1 when there is any, 0 when there is none, and 2 when a document
// cannot be read. `make spec-diff UPSTREAM=path` runs it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specdiff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ops := fs.String("ops", "CreateSignInToken,RevokeSignInToken", "the operationIds to compare, comma-separated")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: specdiff [-ops ID,ID] OURS UPSTREAM")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var docs [2]*openapi3.T
	for i, path := range fs.Args() {
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "specdiff: %s: %v\n", path, err)
			return 2
		}
		docs[i] = doc
	}
	lines := diff(docs[0], docs[1], strings.Split(*ops, ","))
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if len(lines) > 0 {
		fmt.Fprintf(stderr, "specdiff: %d differences between %s and %s\n", len(lines), fs.Arg(0), fs.Arg(1))
		return 1
	}
	fmt.Fprintf(stderr, "specdiff: the operations are the same in %s and %s\n", fs.Arg(0), fs.Arg(1))
	return 0
}
