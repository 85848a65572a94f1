package authz

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseFormMatchesParseQuery holds the token endpoint's form parser to
// url.ParseQuery: the same parameters for every body ParseQuery accepts, a
// refusal for every body it refuses.
func FuzzParseFormMatchesParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "&", "&&a=1", "grant_type=client_credentials&scope=read%3Ausers+write", "a", "a=", "=a", "a=1&a=2",
		"a=1;b=2", "a%zz=1", "a=%", "a=%2", "%41=%42", "a+b=c+d", "a=1&&b=2&", "x=%E2%82%AC", "a==b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := url.ParseQuery(s)
		got, ok := parseForm(s)
		if ok != (werr == nil) {
			t.Fatalf("%q: parseForm ok %v, ParseQuery error %v", s, ok, werr)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parseForm %v, ParseQuery %v", s, got, want)
		}
	})
}

// TestParseFormValuesDoNotAlias checks that appending to one parameter's
// values never changes another's, although all share one array.
func TestParseFormValuesDoNotAlias(t *testing.T) {
	form, ok := parseForm("a=1&b=2&c=3")
	if !ok {
		t.Fatal("refused")
	}
	form["a"] = append(form["a"], "x")
	if form.Get("b") != "2" || form.Get("c") != "3" || len(form["b"]) != 1 {
		t.Fatalf("an append to a changed its neighbours: %v", form)
	}
}

// TestParseFormBoundsParams: a body of more separators than url.ParseQuery
// allows parameters is refused, as ParseQuery refuses it, before a value
// array is allocated for it.
func TestParseFormBoundsParams(t *testing.T) {
	within := strings.Repeat("&", maxFormParams-1) + "a=1"
	if _, ok := parseForm(within); !ok {
		t.Fatalf("%d parameters refused", maxFormParams)
	}
	over := strings.Repeat("&", maxFormParams) + "a=1"
	if _, err := url.ParseQuery(over); err == nil {
		t.Fatal("url.ParseQuery accepts the over-limit body: the limit moved")
	}
	if _, ok := parseForm(over); ok {
		t.Fatalf("%d parameters accepted", maxFormParams+1)
	}
}
