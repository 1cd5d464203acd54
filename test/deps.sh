#!/usr/bin/env bash
# test/deps.sh - install what the tests and the demo need, from Debian 12.
#
# Sourced by test/run-tests.sh and test/demo.sh.  Installs only what is
# missing, so a prepared machine does not touch the network.
#
# Postfix and Dovecot (for the end-to-end tests, test/e2e/) are installed
# as programs only: the machine's own Postfix and Dovecot are neither
# configured nor started.  Postfix's debconf question is answered "No
# configuration" (no main.cf is written), and during the install a
# policy-rc.d forbids every service start; a policy-rc.d the machine
# already had is put back afterwards, ours is removed.
vmm_install_deps() {
	local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
	            libtap-parser-sourcehandler-pgtap-perl postgresql-common
	            build-essential python3 clang libclang-rt-14-dev
	            postfix-pgsql dovecot-core dovecot-pgsql
	            sqitch libdbd-pg-perl)
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
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	local policy=/usr/sbin/policy-rc.d saved="" rc=0
	if [ -e "$policy" ] || [ -L "$policy" ]; then
		saved=$(mktemp /usr/sbin/.policy-rc.d.vmm.XXXXXX)
		mv -f "$policy" "$saved"
	fi
	printf '#!/bin/sh\n# vmm_upgrade test/deps.sh: no service starts during the install\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
	rm -f "$policy"
	[ -n "$saved" ] && mv -f "$saved" "$policy"
	return $rc
}

# pg_virtualenv refuses nothing as root, but the build must see PG 15's
# pg_config first even if another major version is installed.
export PATH="/usr/lib/postgresql/15/bin:$PATH"
