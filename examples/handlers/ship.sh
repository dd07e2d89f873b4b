#!/bin/sh
# A long-running warren handler in sh and jq (1.6 or later): it "ships" each order and
# answers with an order.shipped event; what is not an order is rejected.
#
#   warren consume orders --pipe 'sh examples/handlers/ship.sh' --emit shipments
#
# warren writes one JSON envelope per line on stdin, with a "seq"; the handler answers each
# with one JSON line on stdout naming that seq (docs/handlers.md, "Long-running handlers").
# One jq reads the whole stream, an answer per envelope. --unbuffered makes it flush each
# answer as it is written: jq otherwise keeps output to a pipe in a buffer until the buffer
# fills, and warren would wait for answers sitting there. jq ends when stdin does, which is
# how warren says it is stopping.
exec jq --unbuffered -c '
  .seq as $seq
  | (if .bodyEncoding == "base64" then .body | @base64d else .body end) as $body
  | ($body | try fromjson catch null) as $order
  | if ($order | type) == "object" and ($order.id | type) == "string" then
      # ... the real shipping goes here; a passing failure would answer "retry" ...
      { seq: $seq,
        outcome: "ack",
        emit: [ { routingKey: "order.shipped",
                  properties: { type: "order.shipped", contentType: "application/json" },
                  body: ({ id: $order.id, shippedAt: (now | todate) } | tojson) } ] }
    else
      # Bad data: another try would fail the same way. To the dead-letter queue, if any.
      { seq: $seq, outcome: "reject", reason: "not an order (no \"id\")" }
    end'
