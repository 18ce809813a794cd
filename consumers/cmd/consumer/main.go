// Command consumer runs one eventplane consumer: it reads an SQS queue,
// normalizes every message into CloudEvents, routes them to handlers and
// settles each message. `consumer -h` lists every setting. It is the SDK's
// consumer.Main with the built-in handlers only.
package main

import "github.com/eventplane/eventplane/consumers/consumer"

func main() { consumer.Main() }
