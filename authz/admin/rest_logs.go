package admin

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// logView is an audit record in the shape of Auth0's log events where one
// maps (log_id, date, type, client_id, user_id, description), with the
// record's other fields under their storage names.
type logView struct {
	LogID       string            `json:"log_id"`
	Date        time.Time         `json:"date"`
	Type        string            `json:"type"`
	ClientID    string            `json:"client_id,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
	Description string            `json:"description"`
	Audience    string            `json:"audience,omitempty"`
	Scope       []string          `json:"scope,omitempty"`
	GrantType   string            `json:"grant_type,omitempty"`
	Error       string            `json:"error,omitempty"`
	Actor       string            `json:"actor,omitempty"`
	TargetKind  string            `json:"target_kind,omitempty"`
	TargetID    string            `json:"target_id,omitempty"`
	Action      string            `json:"action,omitempty"`
	Outcome     string            `json:"outcome,omitempty"`
	Attrs       map[string]string `json:"attrs,omitempty"`
}

// viewLog maps one audit record; its description is the OAuth reason, or
// for a management write "<action> <kind> <id>: <outcome>".
func viewLog(r *storage.AuditRecord) any {
	v := logView{LogID: r.ID, Date: r.Time, Type: r.Kind, ClientID: r.Client, UserID: r.Subject, Description: r.Reason,
		Audience: r.Audience, Scope: r.Scopes, GrantType: r.Grant, Error: r.Code, Actor: r.Actor,
		TargetKind: r.TargetKind, TargetID: r.TargetID, Action: r.Action, Outcome: r.Outcome, Attrs: r.Attrs}
	switch {
	case r.Action != "":
		v.Description = r.Action + " " + r.TargetKind + " " + r.TargetID + ": " + r.Outcome
	case v.Description == "" && r.Code != "":
		v.Description = r.Code
	case v.Description == "":
		v.Description = r.Kind
	}
	return v
}

// listLogs answers a page of the audit log, newest first: ?from/&take as
// every listing, kinds from ?kind= (repeatable, comma-separated) and
// ?q=kind:<k>[,<k>], the window from ?from_time (inclusive) to ?to_time
// (exclusive), both RFC 3339.
func (h *restAPI) listLogs(w http.ResponseWriter, r *http.Request) {
	pq, ok := page(w, r)
	if !ok {
		return
	}
	q := storage.AuditQuery{Before: pq.After, Limit: pq.Limit}
	v := r.URL.Query()
	kinds := v["kind"]
	if s := v.Get("q"); s != "" {
		k, found := strings.CutPrefix(s, "kind:")
		if !found {
			invalid(w, "invalid_query", "q", "must be kind:<kind>")
			return
		}
		kinds = append(kinds, k)
	}
	for _, k := range kinds {
		for _, one := range strings.Split(k, ",") {
			if one == "" || len(one) > storage.MaxIDBytes {
				invalid(w, "invalid_query", "kind", "must name event kinds")
				return
			}
			q.Kinds = append(q.Kinds, one)
			if len(q.Kinds) > storage.MaxAuditKinds {
				invalid(w, "invalid_query", "kind", "at most %d kinds", storage.MaxAuditKinds)
				return
			}
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from_time", &q.Since}, {"to_time", &q.Until}} {
		if s := v.Get(t.name); s != "" {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				invalid(w, "invalid_query", t.name, "must be an RFC 3339 time")
				return
			}
			*t.dst = tm
		}
	}
	p, err := h.m.ListAuditLogs(r.Context(), q)
	if errors.Is(err, storage.ErrInvalid) {
		invalid(w, "invalid_query", "from", "must be the next cursor of a previous page")
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "logs", Page[storage.AuditRecord]{Items: p.Records, Next: p.Next}, viewLog)
}
