package consumer_test

import (
	"context"
	"fmt"
	"os"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/consumer"
)

// A program of its own handler: a route names it by the name it was
// registered with, beside the built-in handlers ("log", "store", ...).
// Here the consumer reads an SQS queue on moto; a real program calls
// consumer.Main(consumer.Handle(...)) and is configured by its flags and
// EVENTPLANE_* variables like the stock consumer.
func ExampleHandle() {
	env := exampleQueue(`{"specversion":"1.0","id":"order-1","source":"shop","type":"order.created","data":{"total":42}}`)
	ctx, stop := context.WithCancel(context.Background())
	enrich := consumer.Handle("enrich", func(ctx context.Context, e cloudevents.Event) error {
		var order struct{ Total int }
		if err := e.DataAs(&order); err != nil {
			return consumer.Permanent(fmt.Errorf("order %s: %w", e.ID(), err))
		}
		fmt.Printf("enrich: %s %s total %d\n", e.Type(), e.ID(), order.Total)
		stop() // the example ends after one event
		return nil
	})
	code := consumer.Run(ctx, []string{"--routes", `[{"name":"orders","pattern":{"type":["order.created"]},"handler":"enrich"}]`},
		env, discard{}, os.Stderr, enrich)
	fmt.Println("exit code", code, "queue depth", exampleDepth())
	// Output:
	// enrich: order.created order-1 total 42
	// exit code 0 queue depth 0
}
