package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// diff lists how the operations named by ids, and every schema they use,
// differ between ours and upstream. Each line names the operation and the
// place, as in `CreateSignInToken: response 200 .status: enum value "expired" only upstream`.
func diff(ours, upstream *openapi3.T, ids []string) []string {
	d := &differ{}
	for _, id := range ids {
		a, aPath, aMethod := findOperation(ours, id)
		b, bPath, bMethod := findOperation(upstream, id)
		if a == nil && b == nil {
			d.add(id, "not in either document")
			continue
		}
		if !d.both(id, "", a != nil, b != nil) {
			continue
		}
		if aMethod+" "+aPath != bMethod+" "+bPath {
			d.add(id, fmt.Sprintf("ours is %s %s, upstream %s %s", aMethod, aPath, bMethod, bPath))
		}
		d.parameters(id, a.Parameters, b.Parameters)
		d.requestBody(id, a.RequestBody, b.RequestBody)
		d.responses(id, a.Responses, b.Responses)
	}
	return d.lines
}

type differ struct{ lines []string }

func (d *differ) add(where, what string) { d.lines = append(d.lines, where+": "+what) }

// both reports whether something is in both documents; when it is in one
// only, it records "<what>only ours" or "<what>only upstream" at where.
func (d *differ) both(where, what string, inOurs, inUpstream bool) bool {
	switch {
	case inOurs && !inUpstream:
		d.add(where, what+"only ours")
	case inUpstream && !inOurs:
		d.add(where, what+"only upstream")
	}
	return inOurs && inUpstream
}

// findOperation finds an operation by its operationId.
func findOperation(doc *openapi3.T, id string) (op *openapi3.Operation, path, method string) {
	if doc.Paths == nil {
		return nil, "", ""
	}
	for _, p := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		for m, o := range doc.Paths.Value(p).Operations() {
			if o.OperationID == id {
				return o, p, m
			}
		}
	}
	return nil, "", ""
}

func (d *differ) parameters(id string, a, b openapi3.Parameters) {
	byKey := func(ps openapi3.Parameters) map[string]*openapi3.Parameter {
		m := map[string]*openapi3.Parameter{}
		for _, p := range ps {
			if p != nil && p.Value != nil {
				m[p.Value.In+" parameter "+p.Value.Name] = p.Value
			}
		}
		return m
	}
	am, bm := byKey(a), byKey(b)
	for _, k := range union(am, bm) {
		pa, pb := am[k], bm[k]
		if !d.both(id, k+": ", pa != nil, pb != nil) {
			continue
		}
		if pa.Required != pb.Required {
			d.add(id, fmt.Sprintf("%s: required %v ours, %v upstream", k, pa.Required, pb.Required))
		}
		d.schema(id+": "+k, pa.Schema, pb.Schema, 0)
	}
}

func (d *differ) requestBody(id string, a, b *openapi3.RequestBodyRef) {
	av, bv := bodyValue(a), bodyValue(b)
	if !d.both(id, "request body: ", av != nil, bv != nil) {
		return
	}
	if av.Required != bv.Required {
		d.add(id, fmt.Sprintf("request body: required %v ours, %v upstream", av.Required, bv.Required))
	}
	d.content(id+": request body", av.Content, bv.Content)
}

func bodyValue(r *openapi3.RequestBodyRef) *openapi3.RequestBody {
	if r == nil {
		return nil
	}
	return r.Value
}

func (d *differ) responses(id string, a, b *openapi3.Responses) {
	am, bm := map[string]*openapi3.ResponseRef{}, map[string]*openapi3.ResponseRef{}
	if a != nil {
		am = a.Map()
	}
	if b != nil {
		bm = b.Map()
	}
	for _, status := range union(am, bm) {
		ra, rb := am[status], bm[status]
		if d.both(id, "response "+status+": ", ra != nil, rb != nil) && ra.Value != nil && rb.Value != nil {
			d.content(id+": response "+status, ra.Value.Content, rb.Value.Content)
		}
	}
}

func (d *differ) content(where string, a, b openapi3.Content) {
	for _, mt := range union(a, b) {
		if ma, mb := a[mt], b[mt]; d.both(where, mt+" ", ma != nil, mb != nil) {
			d.schema(where, ma.Schema, mb.Schema, 0)
		}
	}
}

// maxDepth bounds the walk, so that a recursive schema ends it.
const maxDepth = 12

func (d *differ) schema(where string, a, b *openapi3.SchemaRef, depth int) {
	if depth > maxDepth || a == nil || b == nil || a.Value == nil || b.Value == nil {
		if (a == nil) != (b == nil) {
			d.add(where, "schema only on one side")
		}
		return
	}
	sa, sb := a.Value, b.Value
	if ta, tb := strings.Join(sa.Type.Slice(), "|"), strings.Join(sb.Type.Slice(), "|"); ta != tb {
		d.add(where, fmt.Sprintf("type %q ours, %q upstream", ta, tb))
	}
	if sa.Format != sb.Format {
		d.add(where, fmt.Sprintf("format %q ours, %q upstream", sa.Format, sb.Format))
	}
	if sa.Nullable != sb.Nullable {
		d.add(where, fmt.Sprintf("nullable %v ours, %v upstream", sa.Nullable, sb.Nullable))
	}
	ea, eb := enumSet(sa.Enum), enumSet(sb.Enum)
	for _, v := range union(ea, eb) {
		d.both(where, "enum value "+v+" ", ea[v], eb[v])
	}
	ra, rb := set(sa.Required), set(sb.Required)
	for _, p := range union(ra, rb) {
		d.both(where, "."+p+" required ", ra[p], rb[p])
	}
	for _, p := range union(sa.Properties, sb.Properties) {
		if pa, pb := sa.Properties[p], sb.Properties[p]; d.both(where, "."+p+" ", pa != nil, pb != nil) {
			d.schema(where+" ."+p, pa, pb, depth+1)
		}
	}
	if sa.Items != nil || sb.Items != nil {
		d.schema(where+" []", sa.Items, sb.Items, depth+1)
	}
}

func enumSet(vs []any) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[fmt.Sprintf("%q", fmt.Sprint(v))] = true
	}
	return m
}

func set(vs []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// union returns the keys of both maps, sorted.
func union[V, W any](a map[string]V, b map[string]W) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
