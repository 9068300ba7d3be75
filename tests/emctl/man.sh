#!/bin/sh
# emctl(1) and emd(8) as the build configured them, against emctl itself:
# the version is the build's; every command emctl lists has a section, and
# every option its help lists is documented there (or among the global
# options, or the model sources it refers to); ENVIRONMENT, FILES and EXIT
# STATUS are there; rendered at any width, no line of either page is broken
# at a hyphen (.nh, and hyphenated words and paths kept whole). TAP.
# usage: man.sh EMCTL MAN_DIR VERSION
EMCTL=$1 MAN=$2 VERSION=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

echo "1..10"
v=$("$EMCTL" --version)
[ "$v" = "emctl (emkit) $VERSION" ] && ok "emctl --version: $v" || not_ok "emctl --version: $v"
if head -1 "$MAN/emctl.1" | grep -qF "\"emkit $VERSION\"" && head -1 "$MAN/emd.8" | grep -qF "\"emkit $VERSION\""; then
	ok "emctl(1) and emd(8) carry the build's version ($VERSION)"
else not_ok "man page versions: $(head -1 "$MAN/emctl.1") / $(head -1 "$MAN/emd.8")"; fi
if grep -qx '\.nh' "$MAN/emctl.1" && grep -qx '\.nh' "$MAN/emd.8"; then ok "both pages turn hyphenation off (.nh)"
else not_ok "both pages turn hyphenation off (.nh)"; fi

# Each command's help, as emctl prints it.
"$EMCTL" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\{0,1\}\)   *.*/\1/p' >"$tmp/commands"
while read -r c; do
	# shellcheck disable=SC2086
	"$EMCTL" help $c >"$tmp/help.$(echo "$c" | tr ' ' _)"
done <"$tmp/commands"
python3 - "$MAN/emctl.1" "$tmp" <<'PY'
import os, re, sys
man = open(sys.argv[1]).read()
tmp = sys.argv[2]
commands = open(os.path.join(tmp, "commands")).read().split("\n")[:-1]
# Sections: .SH and .SS titles to their text.
parts = re.split(r'^\.(SH|SS) "?([^"\n]*)"?\n', man, flags=re.M)
sections = {parts[i + 1]: parts[i + 2] for i in range(1, len(parts) - 2, 3)}
missing = [c for c in commands if c not in sections]
print("%s 4 - every command emctl lists (%d) has a section in emctl(1)%s"
      % ("not ok" if missing or len(commands) < 15 else "ok", len(commands),
         "" if not missing else ": missing " + ", ".join(missing)))
undocumented = []
total = 0
for c in commands:
    helptext = open(os.path.join(tmp, "help." + c.replace(" ", "_"))).read()
    text = sections.get(c, "") + sections.get("GLOBAL OPTIONS", "")
    if "source options of model show" in text:
        text += sections["model show"]
    for short, long in re.findall(r'^  (?:-(\w), |    )--([a-z-]+)', helptext, flags=re.M):
        total += 1
        if long == "help":
            continue
        if "\\-\\-" + long.replace("-", "\\-") not in text:
            undocumented.append("%s --%s" % (c, long))
        if short and "\\-" + short not in text:
            undocumented.append("%s -%s" % (c, short))
print("%s 5 - every option of every command's help (%d) is documented where the command is%s"
      % ("not ok" if undocumented or total < 50 else "ok", total,
         "" if not undocumented else ": " + ", ".join(undocumented)))
need = ["ENVIRONMENT", "FILES", "EXIT STATUS", "GLOBAL OPTIONS", "SYNOPSIS"]
print("%s 6 - sections %s" % ("ok" if all(s in sections for s in need) else "not ok", ", ".join(need)))
ex = sections.get("EXIT STATUS", "")
print("%s 7 - EXIT STATUS gives 0, 1, 2 and 3" % ("ok" if all((".B %d\n" % i) in ex for i in range(4)) else "not ok"))
env = sections.get("ENVIRONMENT", "")
print("%s 8 - ENVIRONMENT names EMD_SOCKET, XDG_RUNTIME_DIR, EMKIT_PRELOAD"
      % ("ok" if all(v in env for v in ("EMD_SOCKET", "XDG_RUNTIME_DIR", "EMKIT_PRELOAD")) else "not ok"))
PY
n=8
# Rendered at several widths, no line of either page ends in a word broken at
# its hyphen.
for page in emctl.1 emd.8; do
	: >"$tmp/broken"
	for w in 45 60 72 80 100 120; do
		MANWIDTH=$w man -l "$MAN/$page" 2>/dev/null >"$tmp/out.$w"
		grep -nE -- '[[:alnum:]][-‐]$' "$tmp/out.$w" | sed "s/^/width $w: /" >>"$tmp/broken"
	done
	if [ -s "$tmp/out.80" ] && [ ! -s "$tmp/broken" ]; then ok "$page at widths 45 to 120: no line broken at a hyphen"
	else not_ok "$page: lines broken at a hyphen"; sed 's/^/# /' "$tmp/broken" | head; fi
done
