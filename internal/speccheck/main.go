// Command speccheck refuses, before the generator runs, an operation of
// openapi.yaml that the project's part of templates/client.tmpl cannot make
// calls of, with a sentence naming it: go generate runs it first, so the
// generator never turns such an operation into broken code or leaves it out
// of gen.Operations() without a word. What the template supports: an
// operationId; string path parameters, each one path segment; a JSON body
// or none; and answers whose JSON schema is a named schema
// (#/components/schemas/...), which is how client tells a success model
// from Clerk's errors. It also refuses a model's property marked for
// templates/typedef.tmpl that the template cannot print or convert: x-secret
// other than true or query, or on a property that is not a string, and
// x-unix-millis that is not a method name or on one that is not an integer.
//
//	go run ./internal/speccheck openapi.yaml
package main

import (
	"fmt"
	"go/token"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: speccheck openapi.yaml")
		os.Exit(2)
	}
	problems, err := check(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "speccheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "speccheck:", p)
	}
	if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "speccheck: the template cannot make calls of the operations above: change openapi.yaml "+
			"(see CONTRIBUTING.md, \"Adding an operation\") or teach templates/client.tmpl")
		os.Exit(1)
	}
}

// check returns a sentence for each operation of the document at path that
// the template cannot make calls of, in a stable order.
func check(path string) ([]string, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	var problems []string
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := fmt.Sprintf("%s %s (%s)", method, p, op.OperationID)
			for _, why := range refusals(op, item.Parameters) {
				problems = append(problems, name+": "+why)
			}
		}
	}
	for name, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		for prop, pref := range ref.Value.Properties {
			for _, why := range propertyRefusals(pref.Value) {
				problems = append(problems, fmt.Sprintf("schema %s, property %s: %s", name, prop, why))
			}
		}
	}
	slices.Sort(problems)
	return problems, nil
}

// propertyRefusals says what of a model's property templates/typedef.tmpl
// cannot do.
func propertyRefusals(p *openapi3.Schema) []string {
	var why []string
	if p == nil {
		return nil
	}
	if v, ok := p.Extensions["x-secret"]; ok {
		if v != true && v != "query" {
			why = append(why, fmt.Sprintf("x-secret is %v: it is true (the whole value) or query (a URL's query "+
				"and fragment)", v))
		}
		if !p.Type.Is(openapi3.TypeString) {
			why = append(why, "x-secret is on a property that is not a string: the template redacts strings only")
		}
	}
	if v, ok := p.Extensions["x-unix-millis"]; ok {
		if name, _ := v.(string); !token.IsIdentifier(name) || !token.IsExported(name) {
			why = append(why, fmt.Sprintf("x-unix-millis is %v: it names the exported method that returns the "+
				"time, such as Created", v))
		}
		if !p.Type.Is(openapi3.TypeInteger) {
			why = append(why, "x-unix-millis is on a property that is not an integer")
		}
	}
	return why
}

// refusals says what of op the template cannot do.
func refusals(op *openapi3.Operation, shared openapi3.Parameters) []string {
	var why []string
	if op.OperationID == "" {
		why = append(why, "it has no operationId, which names its descriptor and its Prepare function")
	}
	for _, ref := range append(slices.Clone(shared), op.Parameters...) {
		p := ref.Value
		switch {
		case p.In != openapi3.ParameterInPath:
			why = append(why, fmt.Sprintf("it has a %s parameter, %q: the template makes calls with path parameters "+
				"and a JSON body only", p.In, p.Name))
		case p.Schema == nil || p.Schema.Value == nil || !p.Schema.Value.Type.Is(openapi3.TypeString):
			why = append(why, fmt.Sprintf("its path parameter %q is not a string: the template checks string path "+
				"parameters only", p.Name))
		}
	}
	for status, resp := range op.Responses.Map() {
		if resp.Value == nil {
			continue
		}
		for mediaType, mt := range resp.Value.Content {
			if strings.Contains(mediaType, "json") && mt.Schema != nil && !strings.HasPrefix(mt.Schema.Ref, "#/components/schemas/") {
				why = append(why, fmt.Sprintf("its %s answer's schema is given inline (or as allOf), not as a named "+
					"schema: name it under components/schemas and $ref it", status))
			}
		}
	}
	return why
}
