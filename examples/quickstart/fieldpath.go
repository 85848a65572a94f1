package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// unknownFieldPath returns the path of the first field of the JSON
// document data that type t does not have, such as clients[1].grant_typez,
// or "" if there is none. encoding/json names the field only, not where it
// is in an array.
func unknownFieldPath(data []byte, t reflect.Type) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	return walkUnknown(v, t, "")
}

func walkUnknown(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := jsonField(t, k)
			p := k
			if path != "" {
				p = path + "." + k
			}
			if !ok {
				return p
			}
			if bad := walkUnknown(obj[k], ft, p); bad != "" {
				return bad
			}
		}
	case reflect.Slice, reflect.Array:
		arr, _ := v.([]any)
		for i, e := range arr {
			if bad := walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// jsonField finds the field that encoding/json decodes key into: by tag or
// name, without regard to case.
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			if ft, ok := jsonField(f.Type, key); ok {
				return ft, true
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}
