package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	mongodriver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/scopekit/scopekit/storage"
)

// TestMapErrHidesDriverText: a backend failure is ErrUnavailable with a
// fixed text, whatever addresses and socket messages the driver's error
// holds; a deadline keeps only the context's sentinel.
func TestMapErrHidesDriverText(t *testing.T) {
	const addr = "10.1.2.3:27017"
	for _, in := range []error{
		fmt.Errorf("connection(%s[-3]) incomplete read of message header: %w", addr, context.DeadlineExceeded),
		fmt.Errorf("connection(%s[-3]) failed to write: %w", addr, context.Canceled),
		&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 27017}, Err: errors.New("connect: connection refused")},
		mongodriver.CommandError{Code: 13, Name: "Unauthorized", Message: "not authorized on db at " + addr},
		errors.New("server selection error: server at " + addr + " is unreachable"),
	} {
		err := mapErr(in)
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("mapErr(%v) = %v, want ErrUnavailable", in, err)
		}
		if strings.Contains(err.Error(), "10.1.2.3") || strings.Contains(err.Error(), "27017") {
			t.Errorf("mapErr(%v) = %q carries the address", in, err)
		}
		if errors.Is(in, context.DeadlineExceeded) != errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("mapErr(%v) = %v lost or invented the deadline", in, err)
		}
	}
}

// TestUnreachableServerErrorHasNoAddress: a real call to a server nobody
// listens on fails with ErrUnavailable whose text names no address.
func TestUnreachableServerErrorHasNoAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	client, err := mongodriver.Connect(context.Background(), options.Client().
		ApplyURI("mongodb://127.0.0.1:"+port).SetServerSelectionTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s, err := New(client.Database("scopekit_test"), &Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Keys().List(context.Background(), storage.ListQuery{})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("List on an unreachable server: %v, want ErrUnavailable", err)
	}
	for _, leak := range []string{"127.0.0.1", port, "dial", "connection refused"} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("the error %q carries %q", err, leak)
		}
	}
}
