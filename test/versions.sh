#!/usr/bin/env bash
# test/versions.sh - one release number everywhere: the file VERSION (R) is
# what vmm_upgrade.control's default_version ('0.6+R'), META.json (version
# and every provided extension's version), debian/changelog (the upstream
# part of its newest entry) and `vmm-cfg-upgrade --version`
# ("vmm-cfg-upgrade R") say.
#
# usage: bash test/versions.sh [WHAT...]      WHAT, also checked, is one of
#          PATH/vmm-cfg-upgrade     a binary: its --version
#          PATH/vmm_upgrade.control an installed control file
#          pkg:NAME                 an installed Debian package: its version
#        bash test/versions.sh --self-test    each of the above made to
#                                             differ in a copy: each refused
# VMM_TOP names the tree to read (default: this repository).  Prints "ok" /
# "not ok" lines and "versions: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=${VMM_TOP:-$(dirname "$here")}
passed=0
failed=0
check() {	# check WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1)); echo "ok - $1"
	else
		failed=$((failed + 1)); echo "not ok - $1 (expected '$2', got '$3')"
	fi
}
default_version() {	# default_version CONTROL-FILE
	sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$1"
}

if [ "${1:-}" = --self-test ]; then
	tmp=$(mktemp -d /tmp/vmm-versions.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	fresh() {	# a copy of the four files, plus a binary that tells R
		rm -rf "$tmp/top"; mkdir -p "$tmp/top/debian"
		cp "$top/VERSION" "$top/vmm_upgrade.control" "$top/META.json" "$tmp/top/"
		cp "$top/debian/changelog" "$tmp/top/debian/"
		printf '#!/bin/sh\necho "vmm-cfg-upgrade %s"\n' "$(cat "$top/VERSION")" > "$tmp/vmm-cfg-upgrade"
		chmod +x "$tmp/vmm-cfg-upgrade"
	}
	run() { VMM_TOP=$tmp/top bash "$here/versions.sh" "$tmp/vmm-cfg-upgrade" >/dev/null 2>&1; echo $?; }
	fresh
	check "self-test: an unchanged copy passes" 0 "$(run)"
	fresh; sed -i "s/^default_version = .*/default_version = '0.6+0.0.1'/" "$tmp/top/vmm_upgrade.control"
	check "self-test: another default_version is refused" 1 "$(run)"
	fresh; sed -i '0,/"version"/s/"version": *"[^"]*"/"version": "0.0.1"/' "$tmp/top/META.json"
	check "self-test: another META.json version is refused" 1 "$(run)"
	fresh; python3 - "$tmp/top/META.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for d in m["provides"].values():
    d["version"] = "0.0.1"
json.dump(m, open(sys.argv[1], "w"))
PY
	check "self-test: another provides version in META.json is refused" 1 "$(run)"
	fresh; sed -i '1s/(\([^)-]*\)-/(0.0.1-/' "$tmp/top/debian/changelog"
	check "self-test: another debian/changelog version is refused" 1 "$(run)"
	fresh; printf '#!/bin/sh\necho "vmm-cfg-upgrade 1.0"\n' > "$tmp/vmm-cfg-upgrade"
	check "self-test: another vmm-cfg-upgrade --version is refused" 1 "$(run)"
	fresh; echo 1.1 > "$tmp/top/VERSION"
	check "self-test: a VERSION that is not MAJOR.MINOR.PATCH is refused" 1 "$(run)"
	echo "versions: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

release=$(cat "$top/VERSION" 2>/dev/null)
if [[ "$release" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	check "VERSION is a release number ($release)" ok ok
else
	check "VERSION is a release number MAJOR.MINOR.PATCH" MAJOR.MINOR.PATCH "$release"
fi
check "vmm_upgrade.control: default_version is 0.6+VERSION" "0.6+$release" \
	"$(default_version "$top/vmm_upgrade.control")"
check "META.json: version and every provided extension's version are VERSION" "$release" \
	"$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(sorted({m.get("version", "")} | {d.get("version", "") for d in m.get("provides", {}).values()})))
' "$top/META.json" 2>&1)"
# "vmm-upgrade (1.1.0-1) unstable; urgency=medium": the part before the revision
check "debian/changelog: the newest entry is VERSION (-REVISION)" "$release" \
	"$(sed -n '1s/^[^ ]* (\(.*\)).*/\1/p' "$top/debian/changelog" | sed 's/-[^-]*$//')"

for what in "$@"; do
	case "$what" in
	pkg:*)
		v=$(dpkg-query -W -f='${Version}' "${what#pkg:}" 2>/dev/null)
		check "installed package ${what#pkg:} is VERSION (-REVISION)" "$release" "${v%-*}" ;;
	*.control)
		check "$what: default_version is 0.6+VERSION" "0.6+$release" "$(default_version "$what")" ;;
	*)
		check "$what --version" "vmm-cfg-upgrade $release" "$("$what" --version 2>&1)" ;;
	esac
done

echo "versions: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
