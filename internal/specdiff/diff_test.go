package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRun_differences(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"testdata/ours.yaml", "testdata/upstream.yaml"}, &stdout, &stderr)
	assert.Equal(t, 1, code, stderr.String())
	assert.Equal(t, []string{
		`CreateSignInToken: request body .expires_in_seconds: format "int64" ours, "" upstream`,
		`CreateSignInToken: request body: .org_id only upstream`,
		`CreateSignInToken: response 200: .url required only upstream`,
		`CreateSignInToken: response 200 .status: enum value "expired" only upstream`,
		`CreateSignInToken: response 403: only upstream`,
		`RevokeSignInToken: query parameter reason: only upstream`,
		`RevokeSignInToken: response 200: .url required only upstream`,
		`RevokeSignInToken: response 200 .status: enum value "expired" only upstream`,
		`RevokeSignInToken: response 400: only ours`,
	}, strings.Split(strings.TrimSpace(stdout.String()), "\n"))
	assert.Contains(t, stderr.String(), "9 differences")
}

func TestRun_same(t *testing.T) {
	t.Parallel()
	for _, pair := range [][]string{
		{"testdata/ours.yaml", "testdata/ours.yaml"},
		{"../../openapi.yaml", "../../openapi.yaml"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, run(pair, &stdout, &stderr), stderr.String())
		assert.Empty(t, stdout.String())
	}
}

func TestRun_usage(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{},
		{"testdata/ours.yaml"},
		{"testdata/ours.yaml", "testdata/missing.yaml"},
		{"-ops"},
	}
	for _, args := range tests {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(args, &stdout, &stderr), "%v", args)
	}
}

func TestDiff_missingOperation(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-ops", "CreateSignInToken,GetUser", "testdata/ours.yaml", "testdata/upstream.yaml"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), "GetUser: not in either document\n")
}
