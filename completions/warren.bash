# bash completion for warren (generated from its command definitions: 'warren completion bash')

# _warren_command PATH: the subcommands, flags (global ones too) and argument choices of PATH
# ('declare queue'; '' for warren itself); fails if there is no such command.
_warren_command() {
  case "$1" in
    '') _warren_subcommands='publish consume tail serve replay events declare delete purge ls info route export check bench latency profile completion'; _warren_flags='-V --version -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'publish') _warren_subcommands=''; _warren_flags='-e --exchange -k --routing-key -f --file -i --input -H --header --content-type --content-encoding --persistent --transient --priority --expiration --message-id --correlation-id --reply-to --type --app-id --timestamp --no-mandatory --skip-invalid --retries --rpc -t --timeout --format --template --full -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'consume') _warren_subcommands=''; _warren_flags='-n --count -t --timeout --prefetch --retries --ack-mode --format --template --full --exec --pipe --on-failure --concurrency --exec-timeout --max-retries --retry-delay --retry-delay-max --reply --emit --emit-format --grace --pass-url -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'tail') _warren_subcommands=''; _warren_flags='--stream --offset --match-header --any --all --match -n --count -t --timeout --format --template --full --capture --pass-url -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'serve') _warren_subcommands=''; _warren_flags='--check --metrics --metrics-host --grace --retries --stats-interval -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'replay') _warren_subcommands=''; _warren_flags='--from-queue --from-stream --offset --until -e --exchange --to-exchange -k --routing-key -H --header --timing --speed --rate --match -n --count --dry-run --format --template --full --receipts --no-mandatory --skip-invalid -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'events') _warren_subcommands=''; _warren_flags='--match -n --count -t --timeout --format --pass-url -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'declare') _warren_subcommands='exchange queue binding'; _warren_flags='-f --file --check --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'declare exchange') _warren_subcommands=''; _warren_flags='--type --durable --no-durable --auto-delete --internal --alternate-exchange --arg --passive --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'declare queue') _warren_subcommands=''; _warren_flags='--type --durable --no-durable --exclusive --auto-delete --dead-letter-exchange --dead-letter-routing-key --message-ttl --expires --max-length --max-length-bytes --overflow --max-priority --delivery-limit --single-active-consumer --max-age --arg --passive --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'declare binding') _warren_subcommands=''; _warren_flags='--source --queue --exchange --key --arg --json -h --help --url --ca --cert --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'delete') _warren_subcommands='queue exchange binding'; _warren_flags='-f --file --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'delete queue') _warren_subcommands=''; _warren_flags='--if-unused --if-empty --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'delete exchange') _warren_subcommands=''; _warren_flags='--if-unused --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'delete binding') _warren_subcommands=''; _warren_flags='--source --queue --exchange --key --arg --json -h --help --url --ca --cert --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'purge') _warren_subcommands=''; _warren_flags='--json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'ls') _warren_subcommands=''; _warren_flags='--match --sort --reverse --columns --vhost --all-vhosts --format -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='queues exchanges bindings consumers connections channels vhosts' ;;
    'info') _warren_subcommands=''; _warren_flags='--vhost --exchange --queue --default-exchange --all --no-consumers --stats --format -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'route') _warren_subcommands=''; _warren_flags='-H --header --vhost --format -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'export') _warren_subcommands=''; _warren_flags='--vhost -o --output --include-auto-delete -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check') _warren_subcommands='connection queue message rpc topology node'; _warren_flags='-f --file --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check connection') _warren_subcommands=''; _warren_flags='--warn --crit --cert-warn --cert-crit --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check queue') _warren_subcommands=''; _warren_flags='--max-depth --warn-depth --max-unacked --warn-unacked --min-consumers --warn-min-consumers --max-consumers --warn-max-consumers --max-age --warn-age --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check message') _warren_subcommands=''; _warren_flags='--match --limit --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check rpc') _warren_subcommands=''; _warren_flags='--within --warn --match --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check topology') _warren_subcommands=''; _warren_flags='--format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'check node') _warren_subcommands=''; _warren_flags='--mem-warn --format --watch -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'bench') _warren_subcommands=''; _warren_flags='--producers --consumers --channels-per-connection --size --body-file --rate --duration --count --confirm-window --prefetch --multi-ack --persistent --transient --queue-type --queues --autoack --queue --force --exchange --routing-key --drain --json --csv --assert -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'latency') _warren_subcommands=''; _warren_flags='--rate --duration --count --to-url --to-profile --assert --json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'profile') _warren_subcommands='list add remove'; _warren_flags='-h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'profile list') _warren_subcommands=''; _warren_flags='--json -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'profile add') _warren_subcommands=''; _warren_flags='--vhost --format --default --force -h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'profile remove') _warren_subcommands=''; _warren_flags='-h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='' ;;
    'completion') _warren_subcommands=''; _warren_flags='-h --help --url --ca --cert --key --insecure --password-file -q --quiet -v --verbose --no-color --api --wait-for-broker --profile'; _warren_choices='bash zsh fish' ;;
    *) return 1 ;;
  esac
}

# _warren_value PATH FLAG: what the value of FLAG completes to at PATH; fails if it takes none.
_warren_value() {
  case "$1|$2" in
    'publish|-e'|'publish|--exchange') _warren_values='' ;;
    'publish|-k'|'publish|--routing-key') _warren_values='' ;;
    'publish|-f'|'publish|--file') _warren_values='@files' ;;
    'publish|-i'|'publish|--input') _warren_values='raw lines ndjson' ;;
    'publish|-H'|'publish|--header') _warren_values='' ;;
    'publish|--content-type') _warren_values='' ;;
    'publish|--content-encoding') _warren_values='' ;;
    'publish|--priority') _warren_values='' ;;
    'publish|--expiration') _warren_values='' ;;
    'publish|--message-id') _warren_values='' ;;
    'publish|--correlation-id') _warren_values='' ;;
    'publish|--reply-to') _warren_values='' ;;
    'publish|--type') _warren_values='' ;;
    'publish|--app-id') _warren_values='' ;;
    'publish|--timestamp') _warren_values='' ;;
    'publish|--retries') _warren_values='' ;;
    'publish|-t'|'publish|--timeout') _warren_values='' ;;
    'publish|--format') _warren_values='pretty ndjson body' ;;
    'publish|--template') _warren_values='' ;;
    'consume|-n'|'consume|--count') _warren_values='' ;;
    'consume|-t'|'consume|--timeout') _warren_values='' ;;
    'consume|--prefetch') _warren_values='' ;;
    'consume|--retries') _warren_values='' ;;
    'consume|--ack-mode') _warren_values='ack requeue reject none' ;;
    'consume|--format') _warren_values='pretty ndjson body' ;;
    'consume|--template') _warren_values='' ;;
    'consume|--exec') _warren_values='' ;;
    'consume|--pipe') _warren_values='' ;;
    'consume|--on-failure') _warren_values='requeue reject dead-letter' ;;
    'consume|--concurrency') _warren_values='' ;;
    'consume|--exec-timeout') _warren_values='' ;;
    'consume|--max-retries') _warren_values='' ;;
    'consume|--retry-delay') _warren_values='' ;;
    'consume|--retry-delay-max') _warren_values='' ;;
    'consume|--emit') _warren_values='' ;;
    'consume|--emit-format') _warren_values='raw ndjson' ;;
    'consume|--grace') _warren_values='' ;;
    'tail|--stream') _warren_values='' ;;
    'tail|--offset') _warren_values='' ;;
    'tail|--match-header') _warren_values='' ;;
    'tail|--match') _warren_values='' ;;
    'tail|-n'|'tail|--count') _warren_values='' ;;
    'tail|-t'|'tail|--timeout') _warren_values='' ;;
    'tail|--format') _warren_values='pretty ndjson body' ;;
    'tail|--template') _warren_values='' ;;
    'tail|--capture') _warren_values='@files' ;;
    'serve|--metrics') _warren_values='' ;;
    'serve|--metrics-host') _warren_values='' ;;
    'serve|--grace') _warren_values='' ;;
    'serve|--retries') _warren_values='' ;;
    'serve|--stats-interval') _warren_values='' ;;
    'replay|--from-queue') _warren_values='' ;;
    'replay|--from-stream') _warren_values='' ;;
    'replay|--offset') _warren_values='' ;;
    'replay|--until') _warren_values='' ;;
    'replay|-e'|'replay|--exchange') _warren_values='' ;;
    'replay|--to-exchange') _warren_values='' ;;
    'replay|-k'|'replay|--routing-key') _warren_values='' ;;
    'replay|-H'|'replay|--header') _warren_values='' ;;
    'replay|--timing') _warren_values='none original' ;;
    'replay|--speed') _warren_values='' ;;
    'replay|--rate') _warren_values='' ;;
    'replay|--match') _warren_values='' ;;
    'replay|-n'|'replay|--count') _warren_values='' ;;
    'replay|--format') _warren_values='pretty ndjson body' ;;
    'replay|--template') _warren_values='' ;;
    'events|--match') _warren_values='' ;;
    'events|-n'|'events|--count') _warren_values='' ;;
    'events|-t'|'events|--timeout') _warren_values='' ;;
    'events|--format') _warren_values='pretty ndjson' ;;
    'declare|-f'|'declare|--file') _warren_values='@files' ;;
    'declare exchange|--type') _warren_values='' ;;
    'declare exchange|--alternate-exchange') _warren_values='' ;;
    'declare exchange|--arg') _warren_values='' ;;
    'declare queue|--type') _warren_values='classic quorum stream' ;;
    'declare queue|--dead-letter-exchange') _warren_values='' ;;
    'declare queue|--dead-letter-routing-key') _warren_values='' ;;
    'declare queue|--message-ttl') _warren_values='' ;;
    'declare queue|--expires') _warren_values='' ;;
    'declare queue|--max-length') _warren_values='' ;;
    'declare queue|--max-length-bytes') _warren_values='' ;;
    'declare queue|--overflow') _warren_values='drop-head reject-publish reject-publish-dlx' ;;
    'declare queue|--max-priority') _warren_values='' ;;
    'declare queue|--delivery-limit') _warren_values='' ;;
    'declare queue|--max-age') _warren_values='' ;;
    'declare queue|--arg') _warren_values='' ;;
    'declare binding|--source') _warren_values='' ;;
    'declare binding|--queue') _warren_values='' ;;
    'declare binding|--exchange') _warren_values='' ;;
    'declare binding|--key') _warren_values='' ;;
    'declare binding|--arg') _warren_values='' ;;
    'delete|-f'|'delete|--file') _warren_values='@files' ;;
    'delete binding|--source') _warren_values='' ;;
    'delete binding|--queue') _warren_values='' ;;
    'delete binding|--exchange') _warren_values='' ;;
    'delete binding|--key') _warren_values='' ;;
    'delete binding|--arg') _warren_values='' ;;
    'ls|--match') _warren_values='' ;;
    'ls|--sort') _warren_values='' ;;
    'ls|--columns') _warren_values='' ;;
    'ls|--vhost') _warren_values='' ;;
    'ls|--format') _warren_values='table ndjson' ;;
    'info|--vhost') _warren_values='' ;;
    'info|--format') _warren_values='pretty ndjson dot' ;;
    'route|-H'|'route|--header') _warren_values='' ;;
    'route|--vhost') _warren_values='' ;;
    'route|--format') _warren_values='pretty ndjson' ;;
    'export|--vhost') _warren_values='' ;;
    'export|-o'|'export|--output') _warren_values='@files' ;;
    'check|-f'|'check|--file') _warren_values='@files' ;;
    'check|--format') _warren_values='pretty json nagios prometheus' ;;
    'check|--watch') _warren_values='' ;;
    'check connection|--warn') _warren_values='' ;;
    'check connection|--crit') _warren_values='' ;;
    'check connection|--cert-warn') _warren_values='' ;;
    'check connection|--cert-crit') _warren_values='' ;;
    'check connection|--format') _warren_values='pretty json nagios prometheus' ;;
    'check connection|--watch') _warren_values='' ;;
    'check queue|--max-depth') _warren_values='' ;;
    'check queue|--warn-depth') _warren_values='' ;;
    'check queue|--max-unacked') _warren_values='' ;;
    'check queue|--warn-unacked') _warren_values='' ;;
    'check queue|--min-consumers') _warren_values='' ;;
    'check queue|--warn-min-consumers') _warren_values='' ;;
    'check queue|--max-consumers') _warren_values='' ;;
    'check queue|--warn-max-consumers') _warren_values='' ;;
    'check queue|--max-age') _warren_values='' ;;
    'check queue|--warn-age') _warren_values='' ;;
    'check queue|--format') _warren_values='pretty json nagios prometheus' ;;
    'check queue|--watch') _warren_values='' ;;
    'check message|--match') _warren_values='' ;;
    'check message|--limit') _warren_values='' ;;
    'check message|--format') _warren_values='pretty json nagios prometheus' ;;
    'check message|--watch') _warren_values='' ;;
    'check rpc|--within') _warren_values='' ;;
    'check rpc|--warn') _warren_values='' ;;
    'check rpc|--match') _warren_values='' ;;
    'check rpc|--format') _warren_values='pretty json nagios prometheus' ;;
    'check rpc|--watch') _warren_values='' ;;
    'check topology|--format') _warren_values='pretty json nagios prometheus' ;;
    'check topology|--watch') _warren_values='' ;;
    'check node|--mem-warn') _warren_values='' ;;
    'check node|--format') _warren_values='pretty json nagios prometheus' ;;
    'check node|--watch') _warren_values='' ;;
    'bench|--producers') _warren_values='' ;;
    'bench|--consumers') _warren_values='' ;;
    'bench|--channels-per-connection') _warren_values='' ;;
    'bench|--size') _warren_values='' ;;
    'bench|--body-file') _warren_values='@files' ;;
    'bench|--rate') _warren_values='' ;;
    'bench|--duration') _warren_values='' ;;
    'bench|--count') _warren_values='' ;;
    'bench|--confirm-window') _warren_values='' ;;
    'bench|--prefetch') _warren_values='' ;;
    'bench|--multi-ack') _warren_values='' ;;
    'bench|--queue-type') _warren_values='classic quorum stream' ;;
    'bench|--queues') _warren_values='' ;;
    'bench|--queue') _warren_values='' ;;
    'bench|--exchange') _warren_values='' ;;
    'bench|--routing-key') _warren_values='' ;;
    'bench|--drain') _warren_values='' ;;
    'bench|--csv') _warren_values='@files' ;;
    'bench|--assert') _warren_values='' ;;
    'latency|--rate') _warren_values='' ;;
    'latency|--duration') _warren_values='' ;;
    'latency|--count') _warren_values='' ;;
    'latency|--to-url') _warren_values='' ;;
    'latency|--to-profile') _warren_values='' ;;
    'latency|--assert') _warren_values='' ;;
    'profile add|--vhost') _warren_values='' ;;
    'profile add|--format') _warren_values='pretty ndjson body' ;;
    *'|--url') _warren_values='' ;;
    *'|--ca') _warren_values='@files' ;;
    *'|--cert') _warren_values='@files' ;;
    *'|--key') _warren_values='@files' ;;
    *'|--password-file') _warren_values='@files' ;;
    *'|--api') _warren_values='' ;;
    *'|--wait-for-broker') _warren_values='' ;;
    *'|--profile') _warren_values='' ;;
    *) return 1 ;;
  esac
}

_warren() {
  local cur="${COMP_WORDS[COMP_CWORD]}" path='' word i
  local _warren_subcommands _warren_flags _warren_choices _warren_values
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    # After --, tail's trigger command: left to the shell's default completion.
    [[ "$word" == -- ]] && return
    if [[ "$word" == -* ]]; then
      [[ "$word" == *=* ]] && continue
      _warren_value "$path" "$word" || continue
      # --flag=value: bash splits the = into a word of its own.
      [[ "${COMP_WORDS[i + 1]}" == = ]] && ((i++))
      if ((i + 1 == COMP_CWORD)); then
        if [[ "$_warren_values" == @files ]]; then
          compopt -o filenames 2>/dev/null
          COMPREPLY=($(compgen -f -- "$cur"))
        else
          COMPREPLY=($(compgen -W "$_warren_values" -- "$cur"))
        fi
        return
      fi
      ((i++))
    elif _warren_command "${path:+$path }$word"; then
      path="${path:+$path }$word"
    fi
  done
  _warren_command "$path"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$_warren_flags" -- "$cur"))
  elif [[ -n "$_warren_subcommands" ]]; then
    COMPREPLY=($(compgen -W "$_warren_subcommands" -- "$cur"))
  elif [[ -n "$_warren_choices" ]]; then
    COMPREPLY=($(compgen -W "$_warren_choices" -- "$cur"))
  fi
}
complete -o default -F _warren warren
