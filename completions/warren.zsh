#compdef warren
# zsh completion for warren (generated from its command definitions: 'warren completion zsh')

# The global flags, completed at every command.
typeset -ga _warren_global
_warren_global=(
  '*--url[broker URL, repeatable or comma-separated\: tried in order]:url: '
  '--ca[PEM file of the CA that signed the broker certificate (amqps)]:file:_files'
  '--cert[PEM client certificate (amqps)]:file:_files'
  '--key[PEM private key of the client certificate (amqps)]:file:_files'
  '--insecure[do not verify the broker certificate (warns)]'
  '--password-file[read the password from FILE (one line) rather than the URL; else WARREN_PASSWORD]:file:_files'
  '(-q --quiet)'{-q,--quiet}'[no human summary on stderr]'
  '(-v --verbose)'{-v,--verbose}'[connection and protocol detail on stderr, stack traces on errors]'
  '--no-color[no colour, whatever the terminal]'
  '--api[management API URL (else WARREN_API_URL, the profile'\''s, or http\://BROKER-HOST\:15672)]:url: '
  '--wait-for-broker[keep trying to connect this long (a broker starting beside a CI job)]:duration: '
  '--profile[a broker profile from the config file (else WARREN_PROFILE)]:name: '
)

_warren_completion() {
  _arguments -s $_warren_global \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:shell:(bash zsh fish)'
}

_warren_profile_remove() {
  _arguments -s $_warren_global \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_profile_add() {
  _arguments -s $_warren_global \
    '--vhost[the vhost for URLs that name none]:vhost: ' \
    '--format[the output format when --format is not given]:format:(pretty ndjson body)' \
    '--default[make it the profile used when none is named]' \
    '--force[replace a profile of that name]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_profile_list() {
  _arguments -s $_warren_global \
    '--json[print them as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_profile() {
  local curcontext="$curcontext" state line
  local -a subcommands
  subcommands=(
    'list:the profiles, with their URLs (passwords masked); * marks the default'
    'add:save the connection flags given (--url, --ca, --cert, --key, --password-file, --insecure, --api) as a profile'
    'remove:remove a profile from the config file'
  )
  _arguments -C -s $_warren_global \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'warren profile command' subcommands ;;
    argument)
      case $words[1] in
        list) _warren_profile_list ;;
        add) _warren_profile_add ;;
        remove) _warren_profile_remove ;;
      esac
      ;;
  esac
}

_warren_latency() {
  _arguments -s $_warren_global \
    '--rate[probes per second\: 10, 10/s, 30/m]:rate: ' \
    '--duration[send probes for this long (default 10s)]:duration: ' \
    '--count[send this many probes, then stop (instead of --duration)]:n: ' \
    '--to-url[consume on this broker (another node of the same cluster); publish on --url]:url: ' \
    '--to-profile[consume on this profile'\''s broker (another node of the same cluster); publish on --url or --profile (not with --to-url)]:name: ' \
    '*--assert[exit 9 unless it holds, e.g. '\''p99<50ms'\'', '\''max<1s'\'' (repeatable; see docs/commands/latency.md)]:assertion: ' \
    '--json[print the summary as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_bench() {
  _arguments -s $_warren_global \
    '--producers[producers, each on its own channel]:n: ' \
    '--consumers[consumers, each on its own channel]:n: ' \
    '--channels-per-connection[producers (and apart, consumers) that share a connection]:n: ' \
    '--size[message body size, or MIN-MAX\: each message'\''s drawn uniformly from that range (at least 8\: the send time; default 100) (not with --body-file)]:bytes: ' \
    '--body-file[every message'\''s body is FILE'\''s bytes (the send time then rides in a header)]:file:_files' \
    '--rate[messages per second per producer (100, 100/s, 30/m); default as fast as confirms allow]:rate: ' \
    '--duration[how long to publish (default 10s)]:time: ' \
    '--count[publish N messages in all, then stop (not with --duration)]:n: ' \
    '--confirm-window[unconfirmed messages a producer may have at once]:n: ' \
    '--prefetch[each consumer'\''s prefetch]:n: ' \
    '--multi-ack[ack every N deliveries with one multiple ack (1\: each on its own); default\: what one turn of the event loop took, at once]:n: ' \
    '--persistent[persistent messages (delivery mode 2; classic queues durable)]' \
    '--transient[transient messages (delivery mode 1)]' \
    '--queue-type[the type of the queues bench declares (not with --queue)]:type:(classic quorum stream)' \
    '--queues[queues, published to round-robin (not with --queue)]:k: ' \
    '--autoack[consume without acks (not for streams)]' \
    '--queue[bench this existing queue (empty, no consumers) instead of declaring queues; it is left in place]:name: ' \
    '--force[with --queue\: bench it even with messages or consumers of its own]' \
    '--exchange[publish to this existing exchange; bench'\''s queues are bound to it with --routing-key (default each queue'\''s name) (not with --queue)]:name: ' \
    '--routing-key[with --exchange\: the routing key to publish with (every queue bound with it)]:key: ' \
    '--drain[after publishing, how long consumers may take to catch up (default 10s)]:time: ' \
    '--json[print the final summary as JSON on stdout]' \
    '--csv[write the per-second series to FILE as CSV]:file:_files' \
    '--assert[fail (exit 9) unless METRIC OP VALUE holds\: p99<50ms, publish>=20000/s]:expr: ' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_check_node() {
  _arguments -s $_warren_global \
    '--mem-warn[WARNING when a node'\''s memory use is above this share of its high watermark (0.8 or 80%; needs the API)]:fraction: ' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_check_topology() {
  _arguments -s $_warren_global \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:file:_files'
}

_warren_check_rpc() {
  _arguments -s $_warren_global \
    '--within[CRITICAL when no reply comes within this (required)]:duration: ' \
    '--warn[WARNING when the reply takes longer than this]:duration: ' \
    '*--match[the reply must match EXPR, e.g. '\''body.status=ok'\'' (repeatable\: all must match), else CRITICAL]:expr: ' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:exchange: ' \
    '2:key: ' \
    '3:body: '
}

_warren_check_message() {
  _arguments -s $_warren_global \
    '*--match[what the message must match, e.g. '\''body.id=42'\'', '\''properties.type=order.created'\'' (repeatable\: all must match)]:expr: ' \
    '--limit[look at the first N messages at most]:n: ' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:queue: '
}

_warren_check_queue() {
  _arguments -s $_warren_global \
    '--max-depth[CRITICAL above N ready messages]:n: ' \
    '--warn-depth[WARNING above N ready messages]:n: ' \
    '--max-unacked[CRITICAL above N unacknowledged (management API)]:n: ' \
    '--warn-unacked[WARNING above N unacknowledged (management API)]:n: ' \
    '--min-consumers[CRITICAL below N consumers]:n: ' \
    '--warn-min-consumers[WARNING below N consumers]:n: ' \
    '--max-consumers[CRITICAL above N consumers]:n: ' \
    '--warn-max-consumers[WARNING above N consumers]:n: ' \
    '--max-age[CRITICAL when the head message'\''s timestamp is older (peeked, put back)]:duration: ' \
    '--warn-age[WARNING when the head message'\''s timestamp is older]:duration: ' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '*:queue: '
}

_warren_check_connection() {
  _arguments -s $_warren_global \
    '--warn[WARNING when the handshake or the round trip takes longer]:duration: ' \
    '--crit[CRITICAL when the handshake or the round trip takes longer]:duration: ' \
    '--cert-warn[amqps\: WARNING when the certificate expires within this (30d)]:days: ' \
    '--cert-crit[amqps\: CRITICAL when the certificate expires within this (7d)]:days: ' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_check() {
  local curcontext="$curcontext" state line
  local -a subcommands
  subcommands=(
    'connection:connect, handshake and a round trip; TLS certificate expiry for amqps'
    'queue:a queue'\''s depth, unacked messages, consumers and head message'\''s age against bounds'
    'message:a message matching every --match is in the queue (peeked, none taken)'
    'rpc:a request gets a (matching) reply in time, as publish --rpc sends it'
    'topology:the broker has the exchanges, queues and bindings of a topology file, as it declares them'
    'node:memory and disk alarms, blocked publishers, cluster members stopped or partitioned'
  )
  _arguments -C -s $_warren_global \
    '(-f --file)'{-f,--file}'[a checks file (JSON)\: run its checks at once]:path:_files' \
    '--format[pretty on a terminal, else json (a line per check); nagios\: the plugin line and codes 0-3; prometheus\: text exposition]:format:(pretty json nagios prometheus)' \
    '--watch[check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)]:interval: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'warren check command' subcommands ;;
    argument)
      case $words[1] in
        connection) _warren_check_connection ;;
        queue) _warren_check_queue ;;
        message) _warren_check_message ;;
        rpc) _warren_check_rpc ;;
        topology) _warren_check_topology ;;
        node) _warren_check_node ;;
      esac
      ;;
  esac
}

_warren_export() {
  _arguments -s $_warren_global \
    '--vhost[the vhost to export (default\: the broker URL'\''s)]:vhost: ' \
    '(-o --output)'{-o,--output}'[write the file here (whole, once complete) instead of stdout]:file:_files' \
    '--include-auto-delete[keep auto-delete exchanges and queues too]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:regex: '
}

_warren_route() {
  _arguments -s $_warren_global \
    '*'{-H,--header}'[a header of the message; key\:=JSON for a typed value (repeatable)]:key=value: ' \
    '--vhost[the vhost (default\: the broker URL'\''s)]:vhost: ' \
    '--format[pretty on a terminal (one line per queue, with the way), else ndjson]:format:(pretty ndjson)' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:exchange: ' \
    '2:routing-key: '
}

_warren_info() {
  _arguments -s $_warren_global \
    '--vhost[the vhost (default\: the broker URL'\''s)]:vhost: ' \
    '--exchange[NAME is an exchange (where a queue has the same name)]' \
    '--queue[NAME is a queue (where an exchange has the same name) (not with --exchange)]' \
    '--default-exchange[show the default exchange ('\'''\'') and its implicit binding to every queue]' \
    '--all[show the amq.* exchanges nothing is bound to or from, too]' \
    '--no-consumers[leave consumers out]' \
    '--stats[also read rates, memory and policies (null otherwise)\: slower, much so for thousands of queues]' \
    '--format[pretty on a terminal, else ndjson; dot\: a Graphviz digraph]:format:(pretty ndjson dot)' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_ls() {
  _arguments -s $_warren_global \
    '*--match[only records matching EXPR, e.g. '\''messages>1000'\'', '\''consumers=0'\'' (repeatable\: all must match)]:expr: ' \
    '--sort[order by this field, sorted by the API over the whole list]:field: ' \
    '--reverse[the opposite order (with --sort\: descending)]' \
    '--columns[these fields, in this order (table and NDJSON)]:fields: ' \
    '--vhost[list this vhost (default\: the broker URL'\''s) (not with --all-vhosts)]:vhost: ' \
    '--all-vhosts[list every vhost]' \
    '--format[table on a terminal, else ndjson]:format:(table ndjson)' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:kind:(queues exchanges bindings consumers connections channels vhosts)' \
    '*:regex: '
}

_warren_purge() {
  _arguments -s $_warren_global \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:queue: '
}

_warren_delete_binding() {
  _arguments -s $_warren_global \
    '--source[the exchange messages come from]:exchange: ' \
    '--queue[bind to this queue]:queue: ' \
    '--exchange[or bind to this exchange (exchange-to-exchange)]:exchange: ' \
    '--key[binding key (routing key pattern); default empty]:key: ' \
    '*--arg[binding argument, e.g. x-match=all for headers exchanges (repeatable)]:key=value: ' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_delete_exchange() {
  _arguments -s $_warren_global \
    '--if-unused[only if nothing is bound to it (exit 5 otherwise)]' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_delete_queue() {
  _arguments -s $_warren_global \
    '--if-unused[only if it has no consumers (exit 5 otherwise)]' \
    '--if-empty[only if it holds no messages (exit 5 otherwise)]' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_delete() {
  local curcontext="$curcontext" state line
  local -a subcommands
  subcommands=(
    'queue:delete a queue (and the messages in it)'
    'exchange:delete an exchange'
    'binding:remove a binding'
  )
  _arguments -C -s $_warren_global \
    '(-f --file)'{-f,--file}'[tear down what this topology file declares]:path:_files' \
    '--json[print the results as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'warren delete command' subcommands ;;
    argument)
      case $words[1] in
        queue) _warren_delete_queue ;;
        exchange) _warren_delete_exchange ;;
        binding) _warren_delete_binding ;;
      esac
      ;;
  esac
}

_warren_declare_binding() {
  _arguments -s $_warren_global \
    '--source[the exchange messages come from]:exchange: ' \
    '--queue[bind to this queue]:queue: ' \
    '--exchange[or bind to this exchange (exchange-to-exchange)]:exchange: ' \
    '--key[binding key (routing key pattern); default empty]:key: ' \
    '*--arg[binding argument, e.g. x-match=all for headers exchanges (repeatable)]:key=value: ' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]'
}

_warren_declare_queue() {
  _arguments -s $_warren_global \
    '--type[queue type (default\: the vhost'\''s, normally classic)]:type:(classic quorum stream)' \
    '--durable[survives a broker restart (the default)]' \
    '--no-durable[gone when the broker restarts]' \
    '--exclusive[only this connection may use it (gone when warren exits)]' \
    '--auto-delete[deleted when its last consumer goes]' \
    '--dead-letter-exchange[where rejected and expired messages go]:exchange: ' \
    '--dead-letter-routing-key[routing key for dead-lettered messages]:key: ' \
    '--message-ttl[messages expire after this long]:duration: ' \
    '--expires[the queue is deleted after being unused this long]:duration: ' \
    '--max-length[at most N ready messages]:n: ' \
    '--max-length-bytes[at most N bytes of ready messages]:n: ' \
    '--overflow[what happens when full]:mode:(drop-head reject-publish reject-publish-dlx)' \
    '--max-priority[support priorities 0..N (classic)]:n: ' \
    '--delivery-limit[dead-letter after N deliveries (quorum)]:n: ' \
    '--single-active-consumer[one consumer at a time gets messages]' \
    '--max-age[with --type stream\: stream retention, e.g. 7D, 12h (units Y M D h m s)]:age: ' \
    '*--arg[any other argument; key\:=JSON for a typed value (repeatable)]:key=value: ' \
    '--passive[only check that it exists (exit 5 if not)]' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_declare_exchange() {
  _arguments -s $_warren_global \
    '--type[direct, fanout, topic, headers, or a plugin type]:type: ' \
    '--durable[survives a broker restart (the default)]' \
    '--no-durable[gone when the broker restarts]' \
    '--auto-delete[deleted when its last binding goes]' \
    '--internal[only other exchanges may publish to it]' \
    '--alternate-exchange[where messages that match no binding go]:exchange: ' \
    '*--arg[an argument; key\:=JSON for a typed value (repeatable)]:key=value: ' \
    '--passive[only check that it exists (exit 5 if not)]' \
    '--json[print the result as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:name: '
}

_warren_declare() {
  local curcontext="$curcontext" state line
  local -a subcommands
  subcommands=(
    'exchange:declare an exchange'
    'queue:declare a queue ('\'''\'' for a server-named one); prints its name'
    'binding:bind a queue or an exchange to an exchange'
  )
  _arguments -C -s $_warren_global \
    '(-f --file)'{-f,--file}'[a topology file (JSON) to apply]:path:_files' \
    '--check[with --file\: change nothing, report what is missing or differs (exit 5)]' \
    '--json[print the results as JSON on stdout]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'warren declare command' subcommands ;;
    argument)
      case $words[1] in
        exchange) _warren_declare_exchange ;;
        queue) _warren_declare_queue ;;
        binding) _warren_declare_binding ;;
      esac
      ;;
  esac
}

_warren_events() {
  _arguments -s $_warren_global \
    '*--match[print and count only events matching EXPR, e.g. '\''name~^orders'\'' (repeatable\: all must match)]:expr: ' \
    '(-n --count)'{-n,--count}'[stop after N (matching) events]:n: ' \
    '(-t --timeout)'{-t,--timeout}'[stop when no (matching) event arrives for this long (exit 3 if --count not reached)]:duration: ' \
    '--format[pretty on a terminal, else ndjson]:format:(pretty ndjson)' \
    '--pass-url[with a trigger\: give it WARREN_URL, password included, for warren'\''s broker]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '*:pattern: '
}

_warren_replay() {
  _arguments -s $_warren_global \
    '--from-queue[re-drive a dead-letter queue\: each message back where x-death says it was published]:queue: ' \
    '--from-stream[re-publish a range of a stream queue, from --offset]:queue: ' \
    '--offset[with --from-stream\: first (default), last, next, an offset, a time (ISO 8601) or a duration ago (10m)]:offset: ' \
    '--until[with --from-stream\: stop before this offset or time]:offset|time: ' \
    '(-e --exchange)'{-e,--exchange}'[publish to this exchange instead ('\'''\'' is the default exchange)]:name: ' \
    '--to-exchange[the same as --exchange]:name: ' \
    '(-k --routing-key)'{-k,--routing-key}'[publish with this routing key instead]:key: ' \
    '*'{-H,--header}'[set a header; key\:=JSON for a typed value (repeatable)]:key=value: ' \
    '--timing[none\: as fast as confirms allow; original\: keep the recorded gaps (files)]:mode:(none original)' \
    '--speed[with --timing original\: 2 is twice as fast, 0.5 half as fast (default 1)]:factor: ' \
    '--rate[at most this many messages per second (100, 100/s, 30/m)]:n/s: ' \
    '*--match[replay only messages matching EXPR, e.g. '\''headers.x-tenant=acme'\'', '\''body.amount>=100'\'' (repeatable)]:expr: ' \
    '(-n --count)'{-n,--count}'[stop after N messages]:n: ' \
    '--dry-run[print the messages that would be published, and where to; publish nothing]' \
    '--format[with --dry-run\: pretty on a terminal, else ndjson (envelopes)]:format:(pretty ndjson body)' \
    '--template[with --dry-run\: one line per message, e.g. '\''{exchange} {routingKey}'\'']:template: ' \
    '--full[with --dry-run\: show long bodies whole, not cut to the terminal'\''s height]' \
    '--receipts[one NDJSON line per message on stdout\: seq, line, status, replyCode (not with --dry-run)]' \
    '--no-mandatory[allow unroutable messages to be dropped silently (and acked on --from-queue)]' \
    '--skip-invalid[warn about a malformed input line and go on]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:file:_files'
}

_warren_serve() {
  _arguments -s $_warren_global \
    '--check[check the handlers file and exit (0\: valid, 65\: the field and line at fault)]' \
    '--metrics[serve Prometheus metrics at http\://HOST\:PORT/metrics (0\: any free port) (not with --check)]:port: ' \
    '--metrics-host[with --metrics\: the address the metrics endpoint listens on (not with --check)]:host: ' \
    '--grace[on SIGTERM or Ctrl-C, how long running handlers may finish (default 10s) (not with --check)]:duration: ' \
    '--retries[after a lost connection, each handler reconnects up to N times in a row (0\: exit 69 at once) (not with --check)]:n: ' \
    '--stats-interval[without a terminal\: a stats event per handler this often (default 10s; 0s\: none) (not with --check)]:duration: ' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:file:_files'
}

_warren_tail() {
  _arguments -s $_warren_global \
    '--stream[read a stream queue in place instead, from --offset]:queue: ' \
    '--offset[with --stream\: first, last, next (default), an offset, a time (ISO 8601) or a duration ago (10m)]:offset: ' \
    '*--match-header[headers exchanges\: a header to match; key\:=JSON typed (repeatable)]:key=value: ' \
    '--any[headers exchanges\: any one --match-header suffices]' \
    '--all[headers exchanges\: every --match-header must match (the default) (not with --any)]' \
    '*--match[print and count only messages matching EXPR, e.g. '\''body.id=42'\'', '\''bodySize<1024'\'' (repeatable\: all must match)]:expr: ' \
    '(-n --count)'{-n,--count}'[stop after N (matching) messages]:n: ' \
    '(-t --timeout)'{-t,--timeout}'[stop when no (matching) message arrives for this long (exit 3 if --count not reached)]:duration: ' \
    '--format[pretty on a terminal, else ndjson; body\: the raw body and a newline]:format:(pretty ndjson body)' \
    '--template[one line per message, e.g. '\''{routingKey} {body}'\'']:template: ' \
    '--full[pretty output\: show long bodies whole, not cut to the terminal'\''s height]' \
    '--capture[also write every printed message to FILE as NDJSON envelopes (for replay)]:file:_files' \
    '--pass-url[with a trigger\: give it WARREN_URL, password included, for warren'\''s broker]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '*:source: '
}

_warren_consume() {
  _arguments -s $_warren_global \
    '(-n --count)'{-n,--count}'[stop after N messages]:n: ' \
    '(-t --timeout)'{-t,--timeout}'[stop when nothing arrives for this long (exit 3 if --count not reached)]:duration: ' \
    '--prefetch[unacknowledged messages in flight (with --pipe\: at least 100 per handler process by default) (not with --exec)]:n: ' \
    '--retries[after a lost connection, reconnect up to N times in a row (0\: exit 69 at once; a peek never reconnects)]:n: ' \
    '--ack-mode[ack\: take; requeue\: peek, leave the queue as it was; reject\: dead-letter; none\: broker auto-ack (not with --exec, not with --pipe)]:mode:(ack requeue reject none)' \
    '--format[pretty on a terminal, else ndjson; body\: the raw body and a newline (not with --exec, not with --pipe)]:format:(pretty ndjson body)' \
    '--template[one line per message, e.g. '\''{routingKey} {headers.x-id} {body}'\'' (not with --exec, not with --pipe)]:template: ' \
    '--full[pretty output\: show long bodies whole, not cut to the terminal'\''s height (not with --exec, not with --pipe)]' \
    '--exec[run COMMAND (through the shell) per message\: body on stdin, envelope in WARREN_* variables]:command: ' \
    '--pipe[start COMMAND (through the shell) once, --concurrency copies\: one NDJSON envelope per message on its stdin, one answer line each on its stdout (not with --exec)]:command: ' \
    '--on-failure[with --exec or --pipe\: what a failed handler does to its message]:policy:(requeue reject dead-letter)' \
    '--concurrency[with --exec or --pipe\: handlers running at once (--pipe\: processes; default 1); with --exec the prefetch is 3 times this]:n: ' \
    '--exec-timeout[with --exec or --pipe\: kill a handler running longer; its message failed]:duration: ' \
    '--max-retries[with --exec or --pipe\: reject (dead-letter) a message after N failed retries]:n: ' \
    '--retry-delay[with --exec or --pipe\: a failed message waits this long before its next try, doubling per retry (in a retry queue)]:duration: ' \
    '--retry-delay-max[with --retry-delay\: the longest a retry waits (default 16 times --retry-delay)]:duration: ' \
    '--reply[with --exec\: publish the handler'\''s stdout to the message'\''s reply-to (request/reply)]' \
    '--emit[with --exec or --pipe\: publish the handler'\''s stdout as an event there; its message is acked once the event is confirmed (not with --reply)]:exchange[\:key]: ' \
    '--emit-format[with --exec or --pipe\: raw\: all of stdout is one event (default); ndjson\: one envelope per line, --emit gives the defaults (not with --reply)]:format:(raw ndjson)' \
    '--grace[with --exec or --pipe\: on Ctrl-C, how long running handlers may finish (default 10s)]:duration: ' \
    '--pass-url[with --exec or --pipe\: give the handler WARREN_URL, password included, for warren'\''s broker]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:queue: '
}

_warren_publish() {
  _arguments -s $_warren_global \
    '(-e --exchange)'{-e,--exchange}'[exchange to publish to ('\'''\'' is the default exchange)]:name: ' \
    '(-k --routing-key)'{-k,--routing-key}'[routing key (for the default exchange\: the queue name)]:key: ' \
    '(-f --file)'{-f,--file}'[read the body (or the lines) from a file]:path:_files' \
    '(-i --input)'{-i,--input}'[raw\: all input is one message; lines\: one per line; ndjson\: one envelope per line (not with --rpc)]:mode:(raw lines ndjson)' \
    '*'{-H,--header}'[a header; key\:=JSON for a typed value (repeatable)]:key=value: ' \
    '--content-type[content-type property]:type: ' \
    '--content-encoding[content-encoding property]:encoding: ' \
    '--persistent[delivery mode 2\: survives a broker restart (the default)]' \
    '--transient[delivery mode 1 (not with --persistent)]' \
    '--priority[priority property]:0-255: ' \
    '--expiration[per-message TTL, e.g. 30s]:duration: ' \
    '--message-id[message-id property]:id: ' \
    '--correlation-id[correlation-id property]:id: ' \
    '--reply-to[reply-to property (not with --rpc)]:queue: ' \
    '--type[type property]:type: ' \
    '--app-id[app-id property]:id: ' \
    '--timestamp[timestamp property\: '\''now'\'', seconds since the epoch, or ISO 8601]:time: ' \
    '--no-mandatory[allow unroutable messages to be dropped silently]' \
    '--skip-invalid[with --input ndjson\: warn about a malformed line and go on]' \
    '--retries[after a lost connection, reconnect up to N times in a row and send again what was not confirmed (0\: exit 69 at once) (not with --rpc)]:n: ' \
    '--rpc[send a request (direct reply-to, a fresh correlation id) and print its reply]' \
    '(-t --timeout)'{-t,--timeout}'[with --rpc\: how long to wait for the reply (default 30s; exit 3)]:duration: ' \
    '--format[with --rpc\: how to print the reply; pretty on a terminal, else ndjson]:format:(pretty ndjson body)' \
    '--template[with --rpc\: print the reply as one line, e.g. {body}]:template: ' \
    '--full[with --rpc\: show a long reply whole, not cut to the terminal'\''s height]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:body: '
}

_warren() {
  local curcontext="$curcontext" state line
  local -a subcommands
  subcommands=(
    'publish:publish one message, or many from stdin or a file, with publisher confirms'
    'consume:take messages from a queue and print them (acked only once read)'
    'tail:watch exchanges without taking messages from anyone'\''s queue'
    'serve:run the handlers of a handlers file, each on its queue (exec or pipe, routed by key or type)'
    'replay:re-publish captured messages, dead-lettered messages or a stream range (with confirms)'
    'events:watch the broker'\''s events: queues, connections, consumers, logins (event exchange plugin)'
    'declare:create exchanges, queues and bindings, or apply (or --check) a topology file'
    'delete:delete exchanges, queues and bindings, or everything a topology file declares'
    'purge:remove every ready message from a queue'
    'ls:list queues, exchanges, bindings, consumers, connections, channels or vhosts (management API)'
    'info:show the routing tree: exchanges, bindings, queues and consumers'
    'route:show which queues a message with this routing key and headers would reach, without publishing'
    'export:write the vhost'\''s exchanges, queues and bindings as a topology file (management API)'
    'check:assert things about the broker: OK, WARNING or CRITICAL, for CI jobs and monitoring'
    'bench:measure publish, confirm and consume rates and end-to-end latency'
    'latency:measure end-to-end latency with a steady low-rate probe (one producer, one consumer)'
    'profile:list, add or remove the broker profiles of the config file'
    'completion:print the shell completion script'
  )
  _arguments -C -s $_warren_global \
    '(-V --version)'{-V,--version}'[print the version]' \
    '(-h --help)'{-h,--help}'[show help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'warren command' subcommands ;;
    argument)
      case $words[1] in
        publish) _warren_publish ;;
        consume) _warren_consume ;;
        tail) _warren_tail ;;
        serve) _warren_serve ;;
        replay) _warren_replay ;;
        events) _warren_events ;;
        declare) _warren_declare ;;
        delete) _warren_delete ;;
        purge) _warren_purge ;;
        ls) _warren_ls ;;
        info) _warren_info ;;
        route) _warren_route ;;
        export) _warren_export ;;
        check) _warren_check ;;
        bench) _warren_bench ;;
        latency) _warren_latency ;;
        profile) _warren_profile ;;
        completion) _warren_completion ;;
      esac
      ;;
  esac
}

if [[ "$funcstack[1]" == _warren ]]; then
  _warren "$@"
else
  compdef _warren warren
fi
