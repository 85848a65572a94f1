package event_test

import (
	"context"
	"fmt"

	"github.com/scopekit/scopekit/authz/event"
)

// Hooks run in the order given, each wrapping the next; the last handler
// (in a Server, the logger) runs at the end. A hook that does not call next
// drops the event for the rest of the chain.
func ExampleChain() {
	trace := func(name string) event.Hook {
		return func(next event.Handler) event.Handler {
			return func(ctx context.Context, e event.Event) {
				fmt.Println(name, "before", e.Kind)
				next(ctx, e)
				fmt.Println(name, "after")
			}
		}
	}
	dropIssued := func(next event.Handler) event.Handler {
		return func(ctx context.Context, e event.Event) {
			if e.Kind != event.TokenIssued {
				next(ctx, e)
			}
		}
	}
	last := func(_ context.Context, e event.Event) { fmt.Println("last", e.Kind) }
	h := event.Chain(last, trace("first"), nil, trace("second"), dropIssued)
	h(context.Background(), event.Event{Kind: event.RefreshReused})
	h(context.Background(), event.Event{Kind: event.TokenIssued})
	// Output:
	// first before refresh.reused
	// second before refresh.reused
	// last refresh.reused
	// second after
	// first after
	// first before token.issued
	// second before token.issued
	// second after
	// first after
}
