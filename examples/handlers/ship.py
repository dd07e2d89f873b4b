#!/usr/bin/env python3
"""A long-running warren handler in Python 3 (standard library only): it "ships" each
order and answers with an order.shipped event; what is not an order is rejected.

    warren consume orders --pipe 'python3 examples/handlers/ship.py' --emit shipments

warren writes one JSON envelope per line on stdin, with a "seq"; the handler answers each
with one JSON line on stdout naming that seq (docs/handlers.md, "Long-running handlers").
Python holds what it prints to a pipe in a buffer until the buffer fills, so every answer
is flushed: otherwise warren would wait for answers sitting in that buffer, and the
messages would time out or stall.
"""

import base64
import json
import sys
from datetime import datetime, timezone


def answer(message):
    body = message["body"]
    raw = base64.b64decode(body) if message.get("bodyEncoding") == "base64" else body.encode()
    try:
        order = json.loads(raw)
    except ValueError:
        order = None
    if not isinstance(order, dict) or not isinstance(order.get("id"), str):
        # Bad data: another try would fail the same way. To the dead-letter queue, if any.
        return {"seq": message["seq"], "outcome": "reject", "reason": 'not an order (no "id")'}
    # ... the real shipping goes here; a passing failure would answer "retry" ...
    shipped = {"id": order["id"], "shippedAt": datetime.now(timezone.utc).isoformat()}
    return {
        "seq": message["seq"],
        "outcome": "ack",
        "emit": [
            {
                "routingKey": "order.shipped",
                "properties": {"type": "order.shipped", "contentType": "application/json"},
                "body": json.dumps(shipped),
            }
        ],
    }


for line in sys.stdin:
    if line.strip():
        print(json.dumps(answer(json.loads(line))), flush=True)
# stdin ended: warren is stopping, and every message has been answered. Exit.
