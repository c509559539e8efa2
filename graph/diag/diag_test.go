package diag

import (
	"errors"
	"strings"
	"testing"
)

func TestCompareNodeIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2", "10", -1},
		{"10", "2", 1},
		{"7", "7", 0},
		{"12:3", "12:10", -1},
		{"12", "12:1", -1},
		{"9", "a", -1},
		{"b", "a", 1},
		{"", "a", -1},
	} {
		got := CompareNodeIDs(tc.a, tc.b)
		if (got < 0) != (tc.want < 0) || (got > 0) != (tc.want > 0) {
			t.Errorf("CompareNodeIDs(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestListSortDedupeErr(t *testing.T) {
	l := List{
		{Code: ValueBiggerThanMax, NodeID: "10", Input: "b", Message: "m"},
		{Code: RequiredInputMissing, NodeID: "9", Input: "z", Message: "m"},
		{Code: RequiredInputMissing, NodeID: "10", Input: "a", Message: "m"},
		{Code: ValueBiggerThanMax, NodeID: "10", Input: "b", Message: "m"},
		{Code: UnknownInput, Severity: Warning, NodeID: "1", Input: "q", Message: "w"},
	}
	l.Dedupe()
	var got []string
	for _, d := range l {
		got = append(got, d.NodeID+"/"+d.Input)
	}
	if strings.Join(got, " ") != "1/q 9/z 10/a 10/b" {
		t.Errorf("sorted %v", got)
	}
	if len(l.Errors()) != 3 || len(l.Warnings()) != 1 || !l.HasErrors() {
		t.Error("Errors/Warnings/HasErrors")
	}
	err := l.Err()
	var el List
	if err == nil || !errors.As(err, &el) || len(el) != 3 {
		t.Errorf("Err = %v", err)
	}
	if !strings.HasSuffix(err.Error(), "(and 2 more)") {
		t.Errorf("Error() = %q", err.Error())
	}
	if (List{l[0]}).Err() != nil {
		t.Error("warnings only should give a nil error")
	}
	d := &Diagnostic{Code: ValueSmallerThanMin, NodeID: "7", ClassType: "KSampler", Input: "seed", Message: "Value -1 smaller than min of 0", Details: "seed", Line: 3, Col: 9}
	if got := d.Error(); got != "node 7 (KSampler) input seed: value_smaller_than_min: Value -1 smaller than min of 0: seed" {
		t.Errorf("Error() = %q", got)
	}
	if d.Pos() != "3:9" {
		t.Errorf("Pos = %q", d.Pos())
	}
}
