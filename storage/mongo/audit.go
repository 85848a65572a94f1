package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// auditDoc is one audit record; its document id is the tenant and the
// record's ID, so that a tenant's records order by time in the _id index.
type auditDoc struct {
	ID     string `bson:"_id"`
	Tenant string `bson:"tenant"`

	storage.AuditRecord `bson:",inline"`
}

// AppendAudit implements storage.AuditLog: an insert, then a delete of the
// tenant's records older than the keep newest. The TTL index on
// expires_at collects expired records where the server has TTL indexes
// (Purge elsewhere); reads filter them either way.
func (s *Store) AppendAudit(ctx context.Context, r *storage.AuditRecord, keep int) error {
	if err := storage.CheckAuditRecord(r, keep); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	r.ID = storage.AuditID(r.Time)
	d := auditDoc{ID: s.id(r.ID), Tenant: s.tenant, AuditRecord: *r}
	d.Time, d.ExpiresAt = r.Time.UTC(), r.ExpiresAt.UTC()
	if _, err := s.c.audit.InsertOne(ctx, d); err != nil {
		return mapErr(err)
	}
	return s.capAudit(ctx, keep)
}

// capAudit deletes the tenant's audit records older than the keep newest.
func (s *Store) capAudit(ctx context.Context, keep int) error {
	opts := options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetSkip(int64(keep)).SetProjection(bson.M{"_id": 1})
	var edge struct {
		ID string `bson:"_id"`
	}
	res := s.c.audit.FindOne(ctx, bson.M{"tenant": s.tenant}, opts)
	if err := res.Err(); err != nil {
		if errors.Is(mapErr(err), storage.ErrNotFound) {
			return nil
		}
		return mapErr(err)
	}
	if err := res.Decode(&edge); err != nil {
		return corrupt(s.c.audit)
	}
	_, err := s.c.audit.DeleteMany(ctx, bson.M{"tenant": s.tenant, "_id": bson.M{"$lte": edge.ID}})
	return mapErr(err)
}

// ListAudit implements storage.AuditLog: one query on the tenant's _id
// range, newest first.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) (*storage.AuditPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := storage.CheckAuditQuery(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel, err := s.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	idRange := bson.M{"$gt": s.id("")}
	if q.Before != "" {
		idRange["$lt"] = s.id(q.Before)
	}
	filter := bson.M{"tenant": s.tenant, "_id": idRange, "expires_at": live(s.now())}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		tr := bson.M{}
		if !q.Since.IsZero() {
			tr["$gte"] = q.Since.UTC()
		}
		if !q.Until.IsZero() {
			tr["$lt"] = q.Until.UTC()
		}
		filter["time"] = tr
	}
	if len(q.Kinds) > 0 {
		filter["kind"] = bson.M{"$in": q.Kinds}
	}
	cur, err := s.c.audit.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(q.Limit+1)))
	if err != nil {
		return nil, mapErr(err)
	}
	defer cur.Close(ctx)
	page := &storage.AuditPage{}
	for cur.Next(ctx) {
		var d auditDoc
		if err := cur.Decode(&d); err != nil {
			return nil, corrupt(s.c.audit)
		}
		if len(page.Records) == q.Limit {
			page.Next = page.Records[len(page.Records)-1].ID
			break
		}
		r := d.AuditRecord
		page.Records = append(page.Records, &r)
	}
	if err := cur.Err(); err != nil {
		return nil, mapErr(err)
	}
	return page, nil
}
