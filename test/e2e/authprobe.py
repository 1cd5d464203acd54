#!/usr/bin/env python3
"""test/e2e/authprobe.py - ask a running Dovecot's auth service, in bulk.

usage: authprobe.py CONF PROBES OUT SERVICES [DOVEADM_SAMPLE]

CONF     the instance's dovecot.conf (base_dir is read from it)
PROBES   TSV: key, kind, password (empty: unknown), ... (probes.sql)
OUT      gets one line per answer: "dovecot:WHAT<TAB>KEY<TAB>VALUE" with WHAT
           userdb          userdb lookup (what `doveadm user` asks)
           passdb:SVC      passdb lookup for service SVC (what
                           `doveadm auth lookup -x service=SVC` asks)
           auth:SVC        PLAIN login with the right password
           wrongpw:SVC     PLAIN login with a wrong password
SERVICES space-separated services, e.g. "smtp pop3 imap sieve"
DOVEADM_SAMPLE  also run `doveadm auth test` and `doveadm user` for this
           many probes and print whether doveadm agrees with the bulk
           answers (lines "ok ..." / "FAIL ...")

One `doveadm auth test` is a process, a connection and a handshake (about
50 ms); a few thousand of them would take minutes.  This client speaks the
same two protocols doveadm speaks, to the same sockets, over one connection
each, all requests in flight at once: the auth-client protocol
(base_dir/auth-client, what imap-login, pop3-login, Postfix SASL and
doveadm auth test use) and the auth-master protocol (base_dir/auth-userdb,
what doveadm user and doveadm auth lookup use).
"""
import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time

TIMEOUT = 60.0


def tab_escape(s):
    return (s.replace('\x01', '\x011').replace('\t', '\x01t')
             .replace('\n', '\x01n').replace('\r', '\x01r'))


def tab_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\x01' and i + 1 < len(s):
            out.append({'1': '\x01', 't': '\t', 'n': '\n', 'r': '\r'}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


class Conn:
    def __init__(self, path, hello, until):
        # a Dovecot that just started may not listen yet: retry for 10 s
        for attempt in range(100):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if attempt == 99:
                    raise
                time.sleep(0.1)
        self.buf = b''
        self.sock.sendall(hello)
        while True:
            line = self.readline()
            if line.startswith(until):
                break

    def readline(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('auth service closed the connection')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode('utf-8', 'replace')

    def run(self, requests):
        """requests: list of (id, line); returns {id: [verb, fields after id]}.

        All requests are written by a second thread while this one reads the
        answers: Dovecot answers failed logins only on a 500 ms tick, so a
        client that waits for each window of answers pays that tick per
        window."""
        data = ''.join(line for _, line in requests).encode()
        errors = []

        def send():
            try:
                self.sock.sendall(data)
            except OSError as e:
                errors.append(e)
        writer = threading.Thread(target=send, daemon=True)
        writer.start()
        answers = {}
        deadline = time.time() + TIMEOUT + len(requests) * 0.01
        while len(answers) < len(requests):
            if time.time() > deadline:
                raise TimeoutError('auth service: %d of %d answers' % (len(answers), len(requests)))
            fields = self.readline().split('\t')
            answers[int(fields[1])] = [fields[0]] + [tab_unescape(f) for f in fields[2:]]
        writer.join(TIMEOUT)
        if errors:
            raise errors[0]
        return answers


def norm_fields(fields):
    return ' '.join(sorted(f for f in fields if f))


def base_dir(conf):
    with open(conf) as f:
        for line in f:
            m = re.match(r'\s*base_dir\s*=\s*(\S+)', line)
            if m:
                return m.group(1)
    raise SystemExit('%s: no base_dir' % conf)


def main():
    conf, probes_file, out_file, services = sys.argv[1:5]
    sample = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    services = services.split()
    run = base_dir(conf)
    probes = []
    with open(probes_file) as f:
        for line in f:
            cols = line.rstrip('\n').split('\t')
            key, kind, password = cols[0], cols[1], cols[2] if len(cols) > 2 else ''
            if password == '\\N':
                password = ''
            # Dovecot logins: addresses only (no bare domains, no "@domain")
            if '@' in key and not key.startswith('@'):
                probes.append((key, kind, password))

    t0 = time.time()
    master = Conn(os.path.join(run, 'auth-userdb'), b'VERSION\t1\t0\n', 'SPID')
    client = Conn(os.path.join(run, 'auth-client'),
                  b'VERSION\t1\t2\nCPID\t%d\n' % os.getpid(), 'DONE')

    mreq, creq, what = [], [], {}
    n = 0
    for key, kind, password in probes:
        u = tab_escape(key)
        n += 1
        mreq.append((n, 'USER\t%d\t%s\tservice=doveadm\n' % (n, u)))
        what[n] = ('userdb', key)
        for svc in services:
            n += 1
            mreq.append((n, 'PASS\t%d\t%s\tservice=%s\n' % (n, u, svc)))
            what[n] = ('passdb:' + svc, key)
            for label, pw in (('auth', password), ('wrongpw', 'not-' + password + '-x')):
                if label == 'auth' and not password:
                    continue
                # a wrong password for a name that is no account says no
                # more than the passdb lookup; ask it for accounts and
                # unknown local parts only
                if label == 'wrongpw' and kind not in ('account', 'unknown-local'):
                    continue
                n += 1
                resp = base64.b64encode(b'\0' + key.encode() + b'\0' + pw.encode()).decode()
                creq.append((n, 'AUTH\t%d\tPLAIN\tservice=%s\tsecured\tno-penalty\tresp=%s\n'
                                % (n, svc, resp)))
                what[n] = ('%s:%s' % (label, svc), key)
    answers = master.run(mreq)
    answers.update(client.run(creq))

    bulk = {}
    with open(out_file, 'w') as out:
        for i in sorted(answers):
            kindof, key = what[i]
            a = answers[i]
            verb, rest = a[0], a[1:]
            if kindof == 'userdb':
                # USER <id> <user> fields...
                value = ('found user=%s %s' % (rest[0], norm_fields(rest[1:]))
                         if verb == 'USER' else verb.lower() + (' ' + norm_fields(rest) if verb == 'FAIL' else ''))
            elif kindof.startswith('passdb:'):
                value = ('found ' + norm_fields(rest) if verb == 'PASS'
                         else verb.lower() + (' ' + norm_fields(rest) if verb == 'FAIL' else ''))
            else:
                # AUTH answers: OK <id> user=..., FAIL <id> [user=...] [reason=...]
                value = 'OK ' + norm_fields(rest) if verb == 'OK' else verb
            bulk[(kindof, key)] = value
            out.write('dovecot:%s\t%s\t%s\n' % (kindof, key, value))
    elapsed = time.time() - t0
    print('authprobe: %d requests for %d logins in %.2f s' % (len(mreq) + len(creq), len(probes), elapsed))

    # doveadm itself, for a sample: it must agree with the bulk answers
    if sample:
        bad = 0
        checked = 0
        # mostly right passwords (a failed login costs doveadm a 500 ms
        # tick of the auth service), a few wrong ones and unknown names
        known = [p for p in probes if p[2]]
        other = [p for p in probes if not p[2] and p[1] in ('account', 'unknown-local')]
        nk = max(1, sample * 3 // 4)
        pick = known[::max(1, len(known) // nk)][:nk]
        pick += other[::max(1, len(other) // max(1, sample - nk))][:sample - len(pick)]
        for key, kind, password in pick:
            svc = services[checked % len(services)]
            checked += 1
            pw = password or 'not--x'
            label = 'auth' if password else 'wrongpw'
            r = subprocess.run(['doveadm', '-c', conf, 'auth', 'test', '-x', 'service=' + svc, '-x', 'no-penalty', key, pw],
                               capture_output=True, text=True, timeout=30)
            ok = r.returncode == 0 and 'auth succeeded' in r.stdout
            want = bulk[('%s:%s' % (label, svc), key)].startswith('OK')
            if ok != want:
                bad += 1
                print('doveadm auth test %s %s (%s): %s, bulk client said %s'
                      % (svc, key, label, r.stdout.strip() or r.stderr.strip(),
                         bulk[('%s:%s' % (label, svc), key)]))
            r = subprocess.run(['doveadm', '-c', conf, '-f', 'flow', 'user', key],
                               capture_output=True, text=True, timeout=30)
            fields = dict(re.findall(r'field=(\S+) value=(\S*)', r.stdout))
            found = r.returncode == 0 and 'uid' in fields
            b = bulk[('userdb', key)]
            want_found = b.startswith('found')
            if found != want_found or (found and any(
                    '%s=%s' % (k, v) not in b.split() for k, v in fields.items())):
                bad += 1
                print('doveadm user %s: %s, bulk client said %s' % (key, r.stdout.strip() or r.stderr.strip(), b))
        print('%s doveadm auth test and doveadm user agree with the bulk client (%d logins, %d disagreements)'
              % ('ok  ' if bad == 0 and checked > 0 else 'FAIL', checked, bad))


if __name__ == '__main__':
    main()
