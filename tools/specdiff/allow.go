package main

import (
	"fmt"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// allowed is one deliberate difference of the allow-list.
type allowed struct {
	// Match is a regular expression matched against a finding's one line.
	Match string `yaml:"match"`
	// Why says why the difference is deliberate.
	Why string `yaml:"why"`

	re *regexp.Regexp
}

type allowList []allowed

// readAllowList reads a YAML list of {match, why} entries; every entry
// must give a reason.
func readAllowList(path string) (allowList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list allowList
	if err := yaml.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range list {
		a := &list[i]
		if a.Match == "" || a.Why == "" {
			return nil, fmt.Errorf("%s: entry %d needs both match and why", path, i+1)
		}
		if a.re, err = regexp.Compile(a.Match); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", path, i+1, err)
		}
	}
	return list, nil
}

// match returns the entry that allows f, or nil.
func (l allowList) match(f finding) *allowed {
	for i := range l {
		if l[i].re.MatchString(f.String()) {
			return &l[i]
		}
	}
	return nil
}
