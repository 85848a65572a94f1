package mongo

import (
	"errors"
	"fmt"
	"testing"

	mongodriver "go.mongodb.org/mongo-driver/mongo"
)

func TestTTLUnsupportedOnlyForNotImplemented(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{mongodriver.CommandError{Code: 238, Name: "NotImplemented", Message: `Index option "expireAfterSeconds" is not implemented yet`}, true},
		{fmt.Errorf("wrapped: %w", mongodriver.CommandError{Code: 238}), true},
		{mongodriver.CommandError{Code: 13, Name: "Unauthorized"}, false},
		{mongodriver.CommandError{Code: 85, Name: "IndexOptionsConflict"}, false},
		{mongodriver.CommandError{Code: 86, Name: "IndexKeySpecsConflict"}, false},
		{errors.New("connection reset"), false},
		{nil, false},
	} {
		if got := ttlUnsupported(tc.err); got != tc.want {
			t.Errorf("ttlUnsupported(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
