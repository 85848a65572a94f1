package authz_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/scopekit/scopekit/authz"
	"github.com/scopekit/scopekit/grant"
	"github.com/scopekit/scopekit/storage/memory"
)

// TestMetadataIsACopy changes every slice of a returned Metadata: the
// next answer is unchanged, and no two fields of one answer share storage.
func TestMetadataIsACopy(t *testing.T) {
	srv, err := authz.New(t.Context(), authz.Config{Issuer: "https://issuer.example/", Store: memory.New(), ImplicitFlow: true,
		Grants: []authz.Grant{grant.ClientCredentials{}, grant.AuthorizationCode{}, grant.RefreshToken{}},
		Login: authz.LoginFuncs{
			SessionFunc:   func(*http.Request) (*authz.Session, error) { return nil, nil },
			ChallengeFunc: func(w http.ResponseWriter, _ *http.Request, _ string) { w.WriteHeader(http.StatusUnauthorized) },
		}})
	must(t, err)
	want, err := json.Marshal(srv.Metadata())
	must(t, err)

	m := srv.Metadata()
	v := reflect.ValueOf(m).Elem()
	slices := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Len() == 0 {
			continue
		}
		slices++
		others := map[int]string{}
		for j := 0; j < v.NumField(); j++ {
			if g := v.Field(j); j != i && g.Kind() == reflect.Slice && g.Len() > 0 {
				others[j] = g.Index(0).String()
			}
		}
		f.Index(0).SetString("changed")
		for j, before := range others {
			if got := v.Field(j).Index(0).String(); got != before {
				t.Errorf("changing %s changed %s", v.Type().Field(i).Name, v.Type().Field(j).Name)
			}
		}
		f.Set(reflect.Append(f, reflect.ValueOf("added")))
	}
	if slices < 10 {
		t.Fatalf("only %d slices checked", slices)
	}
	got, err := json.Marshal(srv.Metadata())
	must(t, err)
	if string(got) != string(want) {
		t.Fatalf("changing a returned Metadata changed the next one:\n%s\nwant\n%s", got, want)
	}
}
