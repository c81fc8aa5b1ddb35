#!/bin/bash
# pkg/completion: the bash completion of auctl (completions/auctl), loaded
# through bash-completion as the package installs it, completes commands,
# options (those of `auctl --help`) and the columns of -o for each command.
# CTest sets AUCTL.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
: "${AUCTL:?}"
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || skip "bash-completion is not installed"

# complete WORDS...: what completing the last word offers, sorted.
complete_words() {
	bash --norc -c '
		. "$1"; . "$2"; shift 2
		# compopt works only while readline completes: a no-op here.
		compopt() { :; }
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_auctl auctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$bc" "$REPO/completions/auctl" auctl "$@" 2>&1 | sed '/^$/d' | sort
}

lines() { printf '%s\n' "$@" | sort; }

check_eq "auctl <TAB>" "$(lines list show add append prepend del mod apply busy)" \
	"$(complete_words '')"
check_eq "auctl a<TAB>" "$(lines add append apply)" "$(complete_words a)"
check_eq "auctl s<TAB>" "show" "$(complete_words s)"
opts=$("$AUCTL" --help | grep -oE -- '--?[A-Za-z]+' | grep -v '^--$' | sort -u)
check_eq "auctl -<TAB> offers the options of auctl --help" "$opts" \
	"$(complete_words -)"
check_eq "auctl --j<TAB>" "--json" "$(complete_words --j)"
check_eq "auctl list -o <TAB>" "$(lines TARGET SI BRANCHES SOURCE)" \
	"$(complete_words list -o '')"
check_eq "auctl show -o <TAB>" "$(lines INDEX PATH PERM BRID XINO)" \
	"$(complete_words show -o '')"
check_eq "auctl show -o INDEX,P<TAB>" "$(lines INDEX,PATH INDEX,PERM)" \
	"$(complete_words show -o INDEX,P)"
check_eq "auctl -r show -o B<TAB>" "BRID" "$(complete_words -r show -o B)"
check_eq "auctl busy -o <TAB>" "$(lines PID COMMAND WHAT PATH)" \
	"$(complete_words busy -o '')"
check_eq "auctl apply /m <TAB>" "$(lines add: ins: append: prepend: del: mod:)" \
	"$(complete_words apply /m '')"
mkdir -p "$WORK/dirs/branch1" "$WORK/dirs/branch2"
check_eq "auctl append /m <dir><TAB>" "$(lines "$WORK/dirs/branch1" "$WORK/dirs/branch2")" \
	"$(complete_words append /m "$WORK/dirs/br")"
check_eq "auctl apply /m del:<dir><TAB>" "del:$WORK/dirs/branch1" \
	"$(complete_words apply /m "del:$WORK/dirs/branch1")"
check_eq "auctl del /m /a <TAB> (no operand)" "" "$(complete_words del /m /a '')"
check_eq "auctl list <TAB> (no operand)" "" "$(complete_words list '')"
check_eq "auctl list --output <TAB>" "$(lines TARGET SI BRANCHES SOURCE)" \
	"$(complete_words list --output '')"
check_eq "auctl show --output=P<TAB>" "$(lines PATH PERM)" \
	"$(complete_words show --output=P)"
# The columns the completion knows are those of auctl --help.
cols=$("$AUCTL" --help | sed -n '/^Columns/,$s/^  \([A-Z]\+\) .*/\1/p' | sort -u)
check_eq "columns of auctl --help" "$cols" \
	"$( { complete_words list -o ''; complete_words show -o ''; complete_words busy -o ''; } | sort -u)"
