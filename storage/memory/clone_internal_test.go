package memory

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scopekit/scopekit/storage"
)

// TestClonesShareNothing fills every field of every record kind, clones it,
// and fails when any slice, map or pointer of the copy shares memory with
// the original: a field added to a record and forgotten by its clone would
// let a caller change what the store holds.
func TestClonesShareNothing(t *testing.T) {
	cases := []struct {
		name  string
		src   any
		clone func(any) any
	}{
		{"API", &storage.API{}, func(v any) any { return cloneAPI(v.(*storage.API)) }},
		{"Client", &storage.Client{}, func(v any) any { return cloneClient(v.(*storage.Client)) }},
		{"ClientGrant", &storage.ClientGrant{}, func(v any) any { return cloneClientGrant(v.(*storage.ClientGrant)) }},
		{"User", &storage.User{}, func(v any) any { return cloneUser(v.(*storage.User)) }},
		{"Role", &storage.Role{}, func(v any) any { return cloneRole(v.(*storage.Role)) }},
		{"Group", &storage.Group{}, func(v any) any { return cloneGroup(v.(*storage.Group)) }},
		{"Consent", &storage.Consent{}, func(v any) any { return cloneConsent(v.(*storage.Consent)) }},
		{"SigningKey", &storage.SigningKey{}, func(v any) any { return cloneKey(v.(*storage.SigningKey)) }},
		{"AuthRequest", &storage.AuthRequest{}, func(v any) any { return cloneAuthRequest(v.(*storage.AuthRequest)) }},
		{"AuthCode", &storage.AuthCode{}, func(v any) any { return cloneCode(v.(*storage.AuthCode)) }},
		{"Family", &storage.Family{}, func(v any) any { return cloneFamily(v.(*storage.Family)) }},
		{"RefreshToken", &storage.RefreshToken{}, func(v any) any { return cloneRefresh(v.(*storage.RefreshToken)) }},
		{"DeviceCode", &storage.DeviceCode{}, func(v any) any { return cloneDevice(v.(*storage.DeviceCode)) }},
		{"Resolution", &storage.Resolution{}, func(v any) any {
			r := v.(*storage.Resolution)
			return resolution(r.Client, r.API, r.Grant)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fill(reflect.ValueOf(c.src).Elem(), 0)
			out := c.clone(c.src)
			if !reflect.DeepEqual(c.src, out) {
				t.Fatalf("the copy differs from the original:\n%+v\n%+v", c.src, out)
			}
			shared(t, c.name, reflect.ValueOf(c.src).Elem(), reflect.ValueOf(out).Elem())
		})
	}
}

// fill sets every field of v to a non-zero value, with one element in every
// slice and map.
func fill(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"k":1}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf([]any{"x"}))
		} else {
			fill(e, depth+1)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint8:
		v.SetUint(1)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"x": []any{"y"}}))
	}
}

// shared fails when a and b hold the same slice, map or pointer anywhere.
func shared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				shared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	case reflect.Pointer, reflect.Map:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared with the store", path)
			return
		}
		if a.Kind() == reflect.Pointer {
			shared(t, path, a.Elem(), b.Elem())
			return
		}
		for _, k := range a.MapKeys() {
			shared(t, path+"["+k.String()+"]", a.MapIndex(k), b.MapIndex(k))
		}
	case reflect.Slice:
		if a.Len() == 0 {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared with the store", path)
			return
		}
		for i := range a.Len() {
			shared(t, path, a.Index(i), b.Index(i))
		}
	case reflect.Interface:
		if !a.IsNil() {
			shared(t, path, a.Elem(), b.Elem())
		}
	}
}
