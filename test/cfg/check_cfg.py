"""test/cfg/check_cfg.py -- does an upgraded vmm.cfg read like vmm 0.6 reads it?

usage: python3 check_cfg.py OLD.cfg NEW.cfg
       python3 check_cfg.py --load-only FILE.cfg

NEW must load with configparser.RawConfigParser() (strict, as Python 3
reads it; vmm 0.6 used Python 2's RawConfigParser), and every value of
OLD (read leniently, the last of repeated options winning, as vmm 0.5.2's
Python 2 ConfigParser did) must be in NEW under its vmm 0.6 name.  The
rename table is restated here independently of the C code.  Exits 1 and
says why on any mismatch.
"""
import configparser
import sys

RENAMES = {
    ("domdir", "mode"): ("domain", "directory_mode"),
    ("domdir", "delete"): ("domain", "delete_directory"),
    ("domdir", "base"): ("misc", "base_directory"),
    ("maildir", "mode"): ("account", "directory_mode"),
    ("maildir", "diskusage"): ("account", "disk_usage"),
    ("maildir", "delete"): ("account", "delete_directory"),
    ("maildir", "folders"): ("mailbox", "folders"),
    ("maildir", "name"): ("mailbox", "root"),
    ("maildir", "folder"): ("mailbox", "root"),     # vmm 0.4: via 0.5's name
    ("misc", "forcedel"): ("domain", "force_deletion"),
    ("misc", "transport"): ("domain", "transport"),
    ("misc", "passwdscheme"): ("misc", "password_scheme"),
    ("services", "smtp"): ("domain", "smtp"),
    ("services", "pop3"): ("domain", "pop3"),
    ("services", "imap"): ("domain", "imap"),
    ("services", "sieve"): ("domain", "sieve"),
}
DROPPED = {("misc", "gid_mail"), ("config", "done"), ("misc", "dovecotvers")}
NEW_IN_06 = [
    ("account", "random_password"), ("account", "password_length"),
    ("domain", "auto_postmaster"), ("domain", "quota_bytes"),
    ("domain", "quota_messages"), ("database", "module"),
    ("database", "port"), ("database", "sslmode"), ("mailbox", "format"),
    ("mailbox", "subscribe"), ("misc", "crypt_blowfish_rounds"),
    ("misc", "crypt_sha256_rounds"), ("misc", "crypt_sha512_rounds"),
    ("misc", "dovecot_version"),
]
OBSOLETE = {"domdir", "maildir", "services", "config"}


def main():
    if sys.argv[1] == "--load-only":
        with open(sys.argv[2], encoding="utf-8") as f:
            configparser.RawConfigParser().read_file(f)
        sys.exit(0)
    old = configparser.RawConfigParser(strict=False)
    old.read(sys.argv[1], encoding="utf-8")
    new = configparser.RawConfigParser()
    with open(sys.argv[2], encoding="utf-8") as f:
        new.read_file(f)        # raises on any parse error
    errors = []
    for sec in old.sections():
        for opt in old.options(sec):
            if (sec, opt) in DROPPED:
                continue
            nsec, nopt = RENAMES.get((sec, opt), (sec, opt))
            if not new.has_option(nsec, nopt):
                errors.append("%s.%s (%s.%s) missing" % (sec, opt, nsec, nopt))
            elif ((sec, opt) == ("bin", "dovecotpw") and
                  old.get(sec, opt) == "/usr/sbin/dovecotpw" and
                  new.get(nsec, nopt).endswith("/doveadm")):
                pass            # Dovecot 2: pointed at doveadm on purpose
            elif new.get(nsec, nopt) != old.get(sec, opt):
                errors.append("%s.%s = %r but %s.%s = %r" % (
                    sec, opt, old.get(sec, opt), nsec, nopt,
                    new.get(nsec, nopt)))
    for sec, opt in NEW_IN_06:
        if not new.has_option(sec, opt):
            errors.append("new option %s.%s missing" % (sec, opt))
    for sec in new.sections():
        if sec in OBSOLETE and old.has_section(sec) and not any(
                (sec, o) not in RENAMES and (sec, o) not in DROPPED
                for o in old.options(sec)):
            errors.append("obsolete section [%s] still there" % sec)
    if not new.get("misc", "dovecot_version", fallback="").count(".") == 2:
        errors.append("misc.dovecot_version is not a version")
    for e in errors:
        print("check_cfg: %s: %s" % (sys.argv[2], e))
    sys.exit(1 if errors else 0)


main()
