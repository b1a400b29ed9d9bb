package client

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"Application/JSON":                true,
		" application/json ;x=y":          true,
		"application/problem+json":        true,
		"application/vnd.clerk+JSON; v=1": true,
		"application/+json":               false,
		"application/jsonp":               false,
		"text/json":                       false,
		"text/plain":                      false,
		"json":                            false,
		"":                                false,
		"application/json garbage":        false,
	}
	for ct, want := range tests {
		assert.Equal(t, want, isJSON(ct), "%q", ct)
	}
}
