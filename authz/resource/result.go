package resource

import "context"

// Result is what an Authorize call decided, as a result hook sees it.
type Result struct {
	// Err is Authorize's error (an *oauth.Error), nil when the token was
	// accepted. A hook must not log its cause: it may hold token details.
	Err error
	// Cached reports that the token was found in the verified-token cache
	// (Config.Cache), so its signature was not checked again.
	Cached bool
}

// WithResultHook returns a copy of the authorizer that calls hook at the end
// of every Authorize (the middleware's included), for metrics; contrib/otel
// counts the results by OAuth error code and the cache hits. The copy
// shares the cache. hook runs on the request's goroutine and must be quick.
func (a *Authorizer) WithResultHook(hook func(ctx context.Context, r Result)) *Authorizer {
	c := *a
	c.onResult = hook
	return &c
}
