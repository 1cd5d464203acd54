#!/usr/bin/env bash
# test/deps.sh - install what the tests and the demo need, from Debian 12.
#
# Sourced by test/run-tests.sh and test/demo.sh.  Installs only what is
# missing, so a prepared machine does not touch the network.
vmm_install_deps() {
	local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
	            libtap-parser-sourcehandler-pgtap-perl postgresql-common
	            build-essential python3 clang libclang-rt-14-dev)
	# the Debian packages and the PGXN distribution (test/package.sh, test/pgxn.sh)
	pkgs+=(git dpkg-dev debhelper postgresql-server-dev-all lintian pgxnclient)
	local missing=()
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pg_virtualenv refuses nothing as root, but the build must see PG 15's
# pg_config first even if another major version is installed.
export PATH="/usr/lib/postgresql/15/bin:$PATH"
