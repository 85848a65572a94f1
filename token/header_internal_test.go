package token

import (
	"encoding/base64"
	"testing"
)

// FuzzHeaderFastAgrees holds the allocation-free header parser to the full
// one: whatever it accepts, the full parser accepts with the same members.
func FuzzHeaderFastAgrees(f *testing.F) {
	for _, s := range []string{
		`{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}`, `{"alg":"RS256","kid":"abc"}`, `{"kid":"a","kid":"b"}`,
		`{"alg":"ES256","jwk":{}}`, `{"alg":"ES256","crit":["b64"]}`, `{"ALG":"none"}`, `{"alg":"a\u0041"}`,
		`{ "alg":"RS256"}`, `{"alg":"RS256"}x`, `{}`, `{"typ":"JWT","alg":"PS256","kid":"é"}`, `null`,
	} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, part string) {
		fast, ok := parseHeaderFast(part)
		if !ok {
			return
		}
		full, err := parseHeaderFull(part)
		if err != nil || full != fast {
			t.Fatalf("%q: fast %+v, full %+v %v", part, fast, full, err)
		}
	})
}

// TestHeaderFastTakesOwnHeaders checks that the headers of this package's
// keys take the fast path, with one allocation (the kid).
func TestHeaderFastTakesOwnHeaders(t *testing.T) {
	for _, alg := range []string{RS256, PS256, ES256, EdDSA} {
		k, err := GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{TypeAccessToken, TypeIDToken} {
			part := k.headers[typ]
			h, ok := parseHeaderFast(part)
			if !ok || h != (jwsHeader{Alg: alg, Kid: k.id, Typ: typ}) {
				t.Fatalf("%s %s: %+v %v", alg, typ, h, ok)
			}
			if n := testing.AllocsPerRun(100, func() { _, _ = parseHeaderFast(part) }); n > 1 {
				t.Fatalf("%s %s: %v allocations", alg, typ, n)
			}
		}
	}
}
