package authz

import (
	"context"
	"errors"

	"github.com/scopekit/scopekit/authz/oauth"
	"github.com/scopekit/scopekit/storage"
)

// AsError converts any error into a new or passed-through *oauth.Error. An
// *oauth.Error passes through; an oauth.Code becomes a new *oauth.Error of
// it; a storage outage or deadline becomes temporarily_unavailable;
// anything else becomes server_error. Internal details stay in the cause
// only.
func AsError(err error) *oauth.Error {
	if err == nil {
		return nil
	}
	if e, ok := oauth.As(err); ok {
		return e
	}
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return oauth.ErrTemporarilyUnavailable.WithCause(err)
	}
	return oauth.ErrServerError.WithCause(err)
}
