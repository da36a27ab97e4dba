package ernie

import (
	"errors"
	"strings"
	"testing"
)

func doctored(edit func([]abiEntry) []abiEntry) []abiEntry {
	return edit(append([]abiEntry(nil), bindingLayout...))
}

func resized(structName string, delta int64) []abiEntry {
	return doctored(func(t []abiEntry) []abiEntry {
		for i := range t {
			if t[i].structName == structName && t[i].fieldName == "" {
				t[i].value = uint64(int64(t[i].value) + delta)
			}
		}
		return t
	})
}

func TestCompareABIAcceptsCompatibleGrowth(t *testing.T) {
	for _, s := range []string{"ernie_event", "ernie_session_params", "ernie_generate_params"} {
		if err := compareABI(abiVersion, resized(s, 8), bindingLayout); err != nil {
			t.Errorf("%s grown by appended fields: %v", s, err)
		}
	}
}

func TestCompareABIRefusesEveryKindOfDrift(t *testing.T) {
	if err := compareABI(abiVersion, libraryLayout(), bindingLayout); err != nil {
		t.Fatalf("the built library: %v", err)
	}
	cases := map[string]struct {
		version uint32
		table   []abiEntry
		want    string
	}{
		"version": {abiVersion + 1, bindingLayout, "ABI version 2"},
		"moved field": {abiVersion, doctored(func(t []abiEntry) []abiEntry {
			for i := range t {
				if t[i].structName == "ernie_generate_params" && t[i].fieldName == "on_event" {
					t[i].value += 8
				}
			}
			return t
		}), "ernie_generate_params.on_event"},
		"shrunk struct":       {abiVersion, resized("ernie_event", -8), "sizeof(ernie_event)"},
		"grown array element": {abiVersion, resized("ernie_token_logprob", 8), "sizeof(ernie_token_logprob)"},
		"missing row": {abiVersion, doctored(func(t []abiEntry) []abiEntry {
			out := t[:0]
			for _, e := range t {
				if e.structName != "ernie_tool" {
					out = append(out, e)
				}
			}
			return out
		}), "ernie_tool"},
	}
	for name, c := range cases {
		err := compareABI(c.version, c.table, bindingLayout)
		if !errors.Is(err, ErrABIMismatch) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
