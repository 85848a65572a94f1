package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// AuditRecord is one entry of a tenant's audit log: a security event or a
// management write (authz/event.Event), kept until ExpiresAt or until
// newer records push it out of the tenant's bounded count. It holds
// identifiers only, never a secret or a token.
type AuditRecord struct {
	// ID is set by AppendAudit (AuditID): it orders records by Time and is
	// the paging cursor of ListAudit.
	ID string `json:"id" bson:"id"`
	// Time is when the event happened. Required.
	Time time.Time `json:"time" bson:"time"`
	// Kind is the event kind ("refresh.reused", "admin.write", ...). Required.
	Kind string `json:"kind" bson:"kind"`
	// Client, Subject, Audience, Scopes and Grant describe a token event.
	Client   string   `json:"client_id,omitempty" bson:"client_id,omitempty"`
	Subject  string   `json:"sub,omitempty" bson:"sub,omitempty"`
	Audience string   `json:"aud,omitempty" bson:"aud,omitempty"`
	Scopes   []string `json:"scope,omitempty" bson:"scope,omitempty"`
	Grant    string   `json:"grant_type,omitempty" bson:"grant_type,omitempty"`
	// Code and Reason are an OAuth error code and its description.
	Code   string `json:"error,omitempty" bson:"error,omitempty"`
	Reason string `json:"reason,omitempty" bson:"reason,omitempty"`
	// Actor, TargetKind, TargetID, Action and Outcome describe a
	// management write.
	Actor      string `json:"actor,omitempty" bson:"actor,omitempty"`
	TargetKind string `json:"target_kind,omitempty" bson:"target_kind,omitempty"`
	TargetID   string `json:"target_id,omitempty" bson:"target_id,omitempty"`
	Action     string `json:"action,omitempty" bson:"action,omitempty"`
	Outcome    string `json:"outcome,omitempty" bson:"outcome,omitempty"`
	// Attrs holds further identifiers (family, jti, kid).
	Attrs map[string]string `json:"attrs,omitempty" bson:"attrs,omitempty"`
	// ExpiresAt ends the record's retention. Required.
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
}

// AuditQuery selects a page of a tenant's audit log, newest first.
type AuditQuery struct {
	// Kinds keeps records of these kinds only; empty keeps all. At most
	// MaxAuditKinds.
	Kinds []string
	// Since and Until keep records with Since <= Time < Until; zero means
	// unbounded.
	Since, Until time.Time
	// Before is the cursor: the AuditPage.Next of the previous page; empty
	// starts at the newest record.
	Before string
	// Limit bounds the page: 0 means DefaultAuditPage; above MaxAuditPage
	// it is MaxAuditPage.
	Limit int
}

// AuditPage is one page of ListAudit.
type AuditPage struct {
	// Records are newest first.
	Records []*AuditRecord
	// Next is the cursor of the following page (AuditQuery.Before), empty on
	// the last page.
	Next string
}

// Bounds of audit queries.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
	MaxAuditKinds    = 32
)

// AuditLog keeps each tenant's audit log.
type AuditLog interface {
	// AppendAudit sets r.ID (AuditID of r.Time) and stores r until
	// r.ExpiresAt; then at most keep records of the tenant remain, the
	// newest by ID. ErrInvalid without a Kind, a Time or an ExpiresAt, or
	// when keep < 1.
	AppendAudit(ctx context.Context, r *AuditRecord, keep int) error
	// ListAudit returns the live records the query selects, newest first.
	// ErrInvalid for a malformed cursor, a negative limit or too many kinds.
	ListAudit(ctx context.Context, q AuditQuery) (*AuditPage, error)
}

// auditTimeDigits is the width of AuditID's time prefix: hex milliseconds.
const auditTimeDigits = 12

// AuditID returns a new audit record id for an event at t: its Unix
// milliseconds as 12 hex digits, a dash and 16 random hex digits, so that
// ids order by time (records of one millisecond in no particular order).
func AuditID(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return AuditTimePrefix(t) + "-" + hex.EncodeToString(b[:])
}

// AuditTimePrefix is the part of AuditID that encodes t: an id of an event
// at or after t is not below it, one before t is below it.
func AuditTimePrefix(t time.Time) string {
	ms := max(t.UnixMilli(), 0)
	return fmt.Sprintf("%0*x", auditTimeDigits, ms)
}

// ValidAuditID reports whether id has the form of AuditID.
func ValidAuditID(id string) bool {
	if len(id) != auditTimeDigits+1+16 || id[auditTimeDigits] != '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if i != auditTimeDigits && !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckAuditRecord validates an AppendAudit call.
func CheckAuditRecord(r *AuditRecord, keep int) error {
	if r == nil || r.Kind == "" || r.Time.IsZero() || r.ExpiresAt.IsZero() || keep < 1 {
		return ErrInvalid
	}
	return nil
}

// CheckAuditQuery validates q and returns it with its limit settled.
func CheckAuditQuery(q AuditQuery) (AuditQuery, error) {
	if q.Limit < 0 || len(q.Kinds) > MaxAuditKinds || (q.Before != "" && !ValidAuditID(q.Before)) {
		return q, ErrInvalid
	}
	if q.Limit == 0 {
		q.Limit = DefaultAuditPage
	}
	q.Limit = min(q.Limit, MaxAuditPage)
	return q, nil
}

// AuditMatches reports whether a record is selected by q (kind, time
// window, cursor) and live at now. Drivers that filter in the process share it.
func AuditMatches(r *AuditRecord, q AuditQuery, now time.Time) bool {
	if Expired(r.ExpiresAt, now) || (q.Before != "" && r.ID >= q.Before) {
		return false
	}
	if !q.Since.IsZero() && r.Time.Before(q.Since) || !q.Until.IsZero() && !r.Time.Before(q.Until) {
		return false
	}
	if len(q.Kinds) == 0 {
		return true
	}
	for _, k := range q.Kinds {
		if k == r.Kind {
			return true
		}
	}
	return false
}

// CloneAuditRecord returns a copy of r that shares no memory with it.
func CloneAuditRecord(r *AuditRecord) *AuditRecord {
	c := *r
	if r.Scopes != nil {
		c.Scopes = append([]string(nil), r.Scopes...)
	}
	if r.Attrs != nil {
		c.Attrs = make(map[string]string, len(r.Attrs))
		for k, v := range r.Attrs {
			c.Attrs[k] = v
		}
	}
	return &c
}
