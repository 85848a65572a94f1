package event_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/scopekit/scopekit/authz/event"
)

func TestLoggerAttributesAndLevels(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := event.Logger(l)
	h(context.Background(), event.Event{Kind: event.RefreshReused, Client: "app", Subject: "alice", Audience: "https://api",
		Scopes: []string{"read", "write"}, Code: "invalid_grant", Attrs: map[string]string{"family": "f1", "b": "2"}})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"level": "WARN", "msg": event.Message, "event": "refresh.reused", "client_id": "app", "sub": "alice",
		"aud": "https://api", "error": "invalid_grant"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, got[k], v, buf.String())
		}
	}
	if attrs, _ := got["attrs"].(map[string]any); attrs["family"] != "f1" || attrs["b"] != "2" {
		t.Errorf("attrs = %v", got["attrs"])
	}
	if _, ok := got["actor"]; ok {
		t.Error("an empty field is logged")
	}
	for kind, lvl := range map[event.Kind]slog.Level{
		event.StorageUnavailable: slog.LevelError, event.CodeReplayed: slog.LevelWarn, event.TokenRefused: slog.LevelInfo,
		event.TokenIssued: slog.LevelDebug, event.KeyRotated: slog.LevelInfo,
	} {
		if got := event.Level(event.Event{Kind: kind}); got != lvl {
			t.Errorf("Level(%s) = %v, want %v", kind, got, lvl)
		}
	}
	if event.Level(event.Event{Kind: event.AdminWrite, Outcome: event.OutcomeFailure}) != slog.LevelWarn {
		t.Error("a failed management write is not a warning")
	}
}

func TestCloneSharesNothing(t *testing.T) {
	e := event.Event{Scopes: []string{"a"}, Attrs: map[string]string{"k": "v"}}
	c := e.Clone()
	c.Scopes[0], c.Attrs["k"] = "x", "x"
	if e.Scopes[0] != "a" || e.Attrs["k"] != "v" {
		t.Fatal("Clone shares memory")
	}
}

func TestActor(t *testing.T) {
	ctx := event.WithActor(context.Background(), "ops@example.com")
	if event.ActorFrom(ctx) != "ops@example.com" || event.ActorFrom(context.Background()) != "" {
		t.Fatal("actor not carried")
	}
}
