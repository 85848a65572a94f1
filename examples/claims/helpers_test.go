package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

func payloadOf(jwt string) string {
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	return string(b)
}

func userinfo(t *testing.T, base, tok string) string {
	req, _ := http.NewRequest("GET", base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
