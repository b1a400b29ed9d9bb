package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
	"go.yaml.in/yaml/v3"
)

// finding is one difference: a change oasdiff's checker names, or a leaf of
// its structural diff.
type finding struct {
	kind  string // "change" or "diff"
	id    string // the checker's rule, such as request-property-type-generalized
	level string // error, warning or info; "diff" for a structural leaf
	text  string
}

// String is the finding's one line, which the allow-list matches.
func (f finding) String() string {
	if f.kind == "diff" {
		return "[diff] " + f.text
	}
	return fmt.Sprintf("[%s] %s: %s", f.level, f.id, f.text)
}

// loadError is a document that could not be read or parsed.
type loadError struct {
	path string
	err  error
}

func (e *loadError) Error() string { return e.path + ": " + e.err.Error() }

// structural are the sections of the diff whose leaves are findings.
var structural = []string{"paths", "security", "servers"}

func compare(oursPath, upstreamPath, matchPath string) ([]finding, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	ours, err := load.NewSpecInfo(loader, load.NewSource(oursPath))
	if err != nil {
		return nil, &loadError{oursPath, err}
	}
	upstream, err := load.NewSpecInfo(loader, load.NewSource(upstreamPath))
	if err != nil {
		return nil, &loadError{upstreamPath, err}
	}
	config := diff.NewConfig(diff.WithExcludeElements([]string{
		diff.ExcludeDescriptionOption, diff.ExcludeExamplesOption, diff.ExcludeTitleOption,
		diff.ExcludeSummaryOption, diff.ExcludeTagsOption,
	}))
	if matchPath == "" {
		matchPath = pathsOf(ours.Spec)
	}
	config.MatchPath = matchPath
	report, sources, err := diff.GetWithOperationsSourcesMap(config, ours, upstream)
	if err != nil {
		return nil, fmt.Errorf("oasdiff: %w", err)
	}
	var findings []finding
	localizer := checker.NewDefaultLocalizer()
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), report, sources, checker.INFO) {
		text := c.GetUncolorizedText(localizer)
		if op := c.GetOperation(); op != "" {
			text = op + " " + c.GetPath() + ": " + text
		}
		findings = append(findings, finding{kind: "change", id: c.GetId(), level: strings.ToLower(c.GetLevel().String()), text: text})
	}
	leaves, err := diffLeaves(report)
	if err != nil {
		return nil, err
	}
	for _, l := range leaves {
		findings = append(findings, finding{kind: "diff", level: "diff", text: l})
	}
	return findings, nil
}

// pathsOf is a regular expression that matches the paths doc has, under
// any names of their parameters, and no other: the operations to compare,
// whichever ones openapi.yaml holds.
func pathsOf(doc *openapi3.T) string {
	param := regexp.MustCompile(`\\\{[^/]*?\\\}`)
	var paths []string
	for p := range doc.Paths.Map() {
		paths = append(paths, param.ReplaceAllString(regexp.QuoteMeta(p), `\{[^/}]+\}`))
	}
	slices.Sort(paths)
	return "^(" + strings.Join(paths, "|") + ")$"
}

// diffLeaves flattens the structural diff into one line per leaf, such as
// "paths/modified//sign_in_tokens/.../format: from "int64" to """.
func diffLeaves(report *diff.Diff) ([]string, error) {
	if report == nil || report.Empty() {
		return nil, nil
	}
	// The report marshals to YAML, as oasdiff's own -f yaml does, not to
	// JSON: some of its maps have struct keys, which YAML writes as complex
	// keys, so it is read back as nodes.
	b, err := yaml.Marshal(report)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var out []string
	if len(doc.Content) == 1 {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if section := root.Content[i].Value; slices.Contains(structural, section) {
				flatten(section, root.Content[i+1], &out)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func flatten(prefix string, n *yaml.Node, out *[]string) {
	switch n.Kind {
	case yaml.MappingNode:
		if from, to, ok := fromTo(n); ok {
			*out = append(*out, fmt.Sprintf("%s: from %s to %s", prefix, from, to))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := key(n.Content[i])
			if noise[k] {
				flatten(prefix, n.Content[i+1], out)
				continue
			}
			flatten(prefix+"/"+k, n.Content[i+1], out)
		}
	case yaml.SequenceNode:
		for _, x := range n.Content {
			flatten(prefix, x, out)
		}
	default:
		*out = append(*out, prefix+": "+strconv.Quote(n.Value))
	}
}

// noise are the diff's levels that only say "look inside": left out of a
// leaf's path, which keeps "added" and "deleted".
var noise = map[string]bool{"modified": true, "operations": true, "content": true}

// fromTo reads a {from, to} change.
func fromTo(n *yaml.Node) (from, to string, ok bool) {
	if len(n.Content) != 4 || n.Content[0].Value != "from" || n.Content[2].Value != "to" {
		return "", "", false
	}
	return strconv.Quote(key(n.Content[1])), strconv.Quote(key(n.Content[3])), true
}

// key is a node as one word: a scalar's value, or a mapping's values
// joined, such as "POST /sign_in_tokens" for an endpoint key.
func key(n *yaml.Node) string {
	var parts []string
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		for _, c := range n.Content {
			parts = append(parts, key(c))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	for i := 1; i < len(n.Content); i += 2 { // a mapping's values
		parts = append(parts, key(n.Content[i]))
	}
	return strings.Join(parts, " ")
}
