package peers

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// ClaimNames are the claims of scopekit's client-credentials access token
// (RFC 9068 §2.2), which every implementation is configured to sign.
var ClaimNames = []string{"aud", "azp", "client_id", "exp", "gty", "iat", "iss", "jti", "scope", "sub"}

// Deviation is what an implementation signs differently from scopekit
// and offers no setting to change.
type Deviation struct {
	// Typ is the JWS "typ" it writes instead of "at+jwt".
	Typ string
	// Extra are the claims it adds to ClaimNames.
	Extra []string
}

// DeviationOf is the known deviation of the implementation named impl:
// zitadel/oidc's op.SignerFromKey fixes typ "JWT", and
// oidc.NewAccessTokenClaims sets nbf; the others have none.
func DeviationOf(impl string) Deviation {
	if impl == "zitadel" {
		return Deviation{Typ: "JWT", Extra: []string{"nbf"}}
	}
	return Deviation{}
}

// CheckToken checks that raw is a compact JWS signed by k whose header is
// alg, kid and typ "at+jwt" and whose claims are ClaimNames with the
// fixture's values (exp one lifetime after iat, within the second that
// separates the two readings of the clock some implementations make),
// allowing the deviation d.
func CheckToken(raw string, k *Key, d Deviation) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
	if err != nil {
		return err
	}
	if _, err := jws.Verify(k.Pub); err != nil {
		return fmt.Errorf("not signed by the shared key: %w", err)
	}
	var header, claims map[string]any
	parts := strings.Split(raw, ".")
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return err
		}
	}
	typ := "at+jwt"
	if d.Typ != "" {
		typ = d.Typ
	}
	if header["alg"] != k.Alg || header["kid"] != k.Key.ID() || header["typ"] != typ {
		return fmt.Errorf("header %v, want alg %s, kid %s, typ %s", header, k.Alg, k.Key.ID(), typ)
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(ClaimNames), d.Extra...)))
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		return fmt.Errorf("claims %v, want %v", got, want)
	}
	values := map[string]any{"iss": IssuerURL, "sub": ClientID + SubjectSuffix, "client_id": ClientID, "azp": ClientID,
		"scope": strings.Join(Scopes, " "), "gty": GrantTypeName}
	for c, v := range values {
		if claims[c] != v {
			return fmt.Errorf("%s = %v, want %v", c, claims[c], v)
		}
	}
	if aud := audience(claims["aud"]); !slices.Equal(aud, []string{APIID}) {
		return fmt.Errorf("aud %v, want %s", claims["aud"], APIID)
	}
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if math.Abs(exp-iat-TokenLifetime.Seconds()) > 1 {
		return fmt.Errorf("exp-iat = %v, want %v", exp-iat, TokenLifetime.Seconds())
	}
	return nil
}

// audience normalises "aud" (a string or an array, RFC 7519 §4.1.3) to a
// slice.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, s := range a {
			str, ok := s.(string)
			if !ok {
				return nil
			}
			out = append(out, str)
		}
		return out
	}
	return nil
}
