package iampolicy

import "testing"

func TestGlobAlgebra(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		q, p  string
		cover bool // every string p matches, q matches
		meet  bool // some string matches both
	}{
		{"*", "s3:get*", true, true},
		{"s3:*", "s3:get*", true, true},
		{"s3:get*", "s3:*", false, true},
		{"?*", "*", false, true}, // "" matches "*" only
		{"?*", "s3:*", true, true},
		{"*?", "?*", true, true},
		{"s3:get??", "s3:get*x", false, true},
		{"s3:g*", "s3:get?bject", true, true},
		{"*a*", "*a", true, true},
		{"*a", "*a*", false, true},
		{"iam:*", "newsvc:*", false, false},
		{"*:*", "newsvc:*", true, true},
		{"**", "*", true, true},
		{"s3:getobject", "s3:get*", false, true},
		{"s3:put*", "s3:get*", false, false},
	} {
		if got := coverGlob(c.q, c.p); got != c.cover {
			t.Errorf("coverGlob(%q, %q) = %v, want %v", c.q, c.p, got, c.cover)
		}
		if got := intersectGlob(c.q, c.p); got != c.meet {
			t.Errorf("intersectGlob(%q, %q) = %v, want %v", c.q, c.p, got, c.meet)
		}
	}
	for _, c := range []struct {
		q, prefix string
		want      bool
	}{
		{"iam:*", "iam:", true}, {"iam:*", "s3:", false}, {"*delete*", "s3:", true}, {"s?:*", "s3:", true}, {"s3", "s3:", false},
	} {
		if got := globMatchesPrefix(c.q, c.prefix); got != c.want {
			t.Errorf("globMatchesPrefix(%q, %q) = %v, want %v", c.q, c.prefix, got, c.want)
		}
	}
}
