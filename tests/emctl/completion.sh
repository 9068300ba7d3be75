#!/bin/bash
# emctl's bash completion: generated from the table that drives its parser
# and help, so the options it offers for each command are exactly those
# 'emctl help COMMAND' lists; commands, model's subcommands, files for FILE
# values, directories for DIR, after global options and their values, with
# --opt=value. Runs the function as bash runs it, with COMP_WORDS. TAP.
# usage: completion.sh EMCTL COMPLETION_FILE
EMCTL=$1 COMP=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

# complete WORD...: what _emctl offers for the last word (the one being typed).
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_emctl 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
# expect NAME WANT WORD...: the offers are exactly WANT (space-separated).
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
	want=$(echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name"; echo "# want: $want"; echo "#  got: $got"; fi
}

echo "1..19"
"$EMCTL" completion bash >"$tmp/gen"
if cmp -s "$tmp/gen" "$COMP"; then ok "the built completion is 'emctl completion bash'"
else not_ok "the built completion differs from 'emctl completion bash'"; fi
if bash -n "$COMP"; then ok "it is bash"; else not_ok "bash -n"; fi
# shellcheck disable=SC1090
source "$COMP"
if complete -p emctl | grep -q -- "-F _emctl"; then ok "it registers _emctl for emctl"; else not_ok "complete -p emctl"; fi

expect "emctl sh<TAB>: show" "show" emctl sh
expect "emctl m<TAB>: model (once)" "model" emctl m
expect "emctl --so<TAB>: --socket" "--socket" emctl --so
expect "a global option's value is skipped: emctl -s /x sh<TAB>" "show" emctl -s /x sh
expect "emctl model <TAB>: its subcommands" "show check export" emctl model ""
expect "emctl help t<TAB>: commands" "table" emctl help t
expect "emctl completion <TAB>: bash" "bash" emctl completion ""
mkdir -p "$tmp/d/sub"; : >"$tmp/d/a.svg"
expect "plot --svg <TAB>: files" "$tmp/d/a.svg $tmp/d/sub" emctl plot 0 --svg "$tmp/d/"
expect "plot --svg=<TAB>: files" "$tmp/d/a.svg $tmp/d/sub" emctl plot --svg = "$tmp/d/"
expect "model show --debugfs <TAB>: directories" "$tmp/d/sub" emctl model show --debugfs "$tmp/d/"
expect "get 1 <TAB>: nothing more" "" emctl get 1 ""

# For every command: the options offered are exactly those its help lists.
"$EMCTL" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\{0,1\}\)   *.*/\1/p' >"$tmp/commands"
bad=""
count=0
while read -r c; do
	# shellcheck disable=SC2086
	want=$("$EMCTL" help $c | sed -nE 's/^  (-([a-zA-Z]), |    )--([a-z-]+).*/--\3 -\2/p' |
		tr ' ' '\n' | grep -v '^-$' | sort | tr '\n' ' ')
	# shellcheck disable=SC2086
	got=$(complete_words emctl $c - | tr '\n' ' ')
	count=$((count + 1))
	[ -n "$want" ] && [ "$want" = "$got" ] || bad="$bad [$c: want $want got $got]"
done <"$tmp/commands"
if [ -z "$bad" ] && [ $count -ge 15 ]; then ok "each of the $count commands: its help's options, no more, no fewer"
else not_ok "options offered differ from the help:$bad"; fi
expect "show --<TAB>: no option of another command" "--socket --json --kernel --help" emctl show --
expect "exec -- <TAB>: programs" "$(compgen -c -- bas | tr '\n' ' ')" emctl exec -- bas
if [ "$(complete_words emctl exec -- sh -c "$tmp/d/" | tr '\n' ' ')" = "$tmp/d/a.svg $tmp/d/sub " ]; then
	ok "exec COMMAND <TAB>: files for its arguments"; else not_ok "exec COMMAND args"; fi
expect "exec COMMAND -<TAB>: not exec's options" "" emctl exec genl -
