package main

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// A YAML list in the structural diff prints as the list, in order.
func TestKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"plain":         "plain",
		"[a, b, c]":     "[a, b, c]",
		"{x: 1, y: 2}":  "1 2",
		"[[a, b], [c]]": "[[a, b], [c]]",
	}
	for in, want := range tests {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(in), &doc); err != nil {
			t.Fatal(err)
		}
		if got := key(doc.Content[0]); got != want {
			t.Errorf("key(%s) = %q, want %q", in, got, want)
		}
	}
}
