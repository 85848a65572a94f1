package mongo

import "go.mongodb.org/mongo-driver/mongo/writeconcern"

// WriteConcern is the write concern the store applies to its collections.
func WriteConcern(s *Store) *writeconcern.WriteConcern { return s.opts.WriteConcern }
