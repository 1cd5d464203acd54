#!/usr/bin/env python3
"""test/e2e/live.py - the real clients, without pause, during the live upgrade.

usage:
  live.py run LOG STOPFILE EXPECT MAX_ITER MAX_SECONDS NAME=DIR...
      For each target NAME (a config set DIR with DIR/postfix/ and
      DIR/dovecot/dovecot.conf, its Dovecot running) four loops at once,
      each going round the keys of EXPECT until STOPFILE exists (then three
      more calls), at most MAX_ITER calls and MAX_SECONDS:
        mailbox  postmap -q KEY pgsql:DIR/postfix/pgsql-virtual_mailbox_maps.cf
        domains  postmap -q KEY pgsql:DIR/postfix/pgsql-virtual_mailbox_domains.cf
        auth     doveadm auth test -x service=SVC -x no-penalty KEY PASSWORD
        user     doveadm user KEY
      postmap reads the .cf file on every call and Dovecot answers with the
      queries it loaded last (doveadm reload): whatever the files say at that
      moment.  One TSV line per answer in LOG:
        target  kind  n  start_ms  end_ms  key  verdict  answer  retried
      verdict "ok" (the expected answer), "wrong" (a definite other answer)
      or "failed" (an error, a temporary failure, a timeout); retried 1
      when doveadm could not connect to its Dovecot's auth socket because
      `doveadm reload` was re-creating it (Dovecot's own race, about once
      in a thousand calls during a reload, without the database) and asked
      again 100 ms later; a database error is never asked again.
  live.py analyse LOG TIMES NAME...
      TIMES: "STEP MS" lines (begin, commit, NAME:replayed for each
      replica, switch_begin, switched, drop_begin, dropped,
      NAME:drop_replayed).  Prints check lines: no
      failed and no wrong answer; lookups answered during the update on
      every target; lookups answered through the new queries after the
      views were dropped on every target.

EXPECT (TSV, computed from the 0.5.2 views before the update):
  kind  key  arg  expected
  mailbox  ADDRESS  -             MAILDIR or "-" (not found)
  domains  DOMAIN   -             GID or "-"
  auth     ADDRESS  SVC:PASSWORD  ok or fail
  user     ADDRESS  -             "uid=U gid=G home=H mail=M" or "-"
"""
import os
import subprocess
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return ' '.join(line.split())[:200]
    return ''


def ask_postmap(pfdir, mapfile, key, want):
    try:
        r = subprocess.run(['postmap', '-c', pfdir, '-q', key, 'pgsql:' + os.path.join(pfdir, mapfile)],
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 'failed', 'timed out'
    if r.stderr.strip():
        return 'failed', first_line(r.stderr)
    if r.returncode == 0:
        got = r.stdout.strip()
    elif r.returncode == 1:
        got = '-'
    else:
        return 'failed', 'exit %d' % r.returncode
    return ('ok' if got == want else 'wrong'), got


def reload_race(answer):
    """doveadm could not connect to the auth socket of its Dovecot: a
    doveadm reload re-creating the socket at that moment (Dovecot's own
    behaviour, about once in a thousand calls during a reload, nothing the
    database said)"""
    return answer[0] == 'failed' and (
        "Couldn't connect to auth socket" in answer[1] or
        ('connect(' in answer[1] and ('No such file or directory' in answer[1] or
                                       'Connection refused' in answer[1])))


def retried(ask):
    """ask; after a reload race ask once more, 100 ms later"""
    a = ask()
    if reload_race(a):
        time.sleep(0.1)
        b = ask()
        return b[0], b[1], 1
    return a[0], a[1], 0


def ask_auth(conf, key, arg, want):
    svc, password = arg.split(':', 1)
    try:
        r = subprocess.run(['doveadm', '-c', conf, 'auth', 'test', '-x', 'service=' + svc, '-x', 'no-penalty',
                            key, password], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 'failed', 'timed out'
    out = r.stdout + r.stderr
    if r.returncode == 0 and 'auth succeeded' in out:
        got = 'ok'
    elif r.returncode == 77 and 'auth failed' in out and 'temp_fail' not in out:
        got = 'fail'
    else:
        return 'failed', 'exit %d: %s' % (r.returncode, ' '.join(out.split())[:200])
    return ('ok' if got == want else 'wrong'), got


def ask_user(conf, key, want):
    try:
        r = subprocess.run(['doveadm', '-c', conf, '-f', 'flow', 'user', key],
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 'failed', 'timed out'
    if r.returncode == 0:
        fields = {}
        for part in r.stdout.split():
            if part.startswith('field='):
                name = part[6:]
            elif part.startswith('value='):
                fields[name] = part[6:]
        got = ' '.join('%s=%s' % (k, fields.get(k, '')) for k in ('uid', 'gid', 'home', 'mail'))
    elif r.returncode == 67 and "doesn't exist" in r.stdout + r.stderr:
        got = '-'
    else:
        return 'failed', 'exit %d: %s' % (r.returncode, ' '.join((r.stdout + r.stderr).split())[:200])
    return ('ok' if got == want else 'wrong'), got


def run(log, stopfile, expect_file, max_iter, max_seconds, targets):
    expect = {}
    with open(expect_file) as f:
        for line in f:
            kind, key, arg, want = line.rstrip('\n').split('\t')
            expect.setdefault(kind, []).append((key, arg, want))
    t_end = time.time() + max_seconds
    lock = threading.Lock()
    out = open(log, 'w')

    def loop(target, kind, ask):
        items = expect.get(kind, [])
        after_stop = 0
        for i in range(max_iter):
            if not items or time.time() > t_end:
                break
            key, arg, want = items[i % len(items)]
            t0 = now_ms()
            verdict, got, again = retried(lambda: ask(key, arg, want))
            with lock:
                out.write('%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\n'
                          % (target, kind, i + 1, t0, now_ms(), key, verdict, got, again))
                out.flush()
            if os.path.exists(stopfile):
                after_stop += 1
                if after_stop >= 3:
                    break

    threads = []
    for spec in targets:
        name, d = spec.split('=', 1)
        pf = os.path.join(d, 'postfix')
        conf = os.path.join(d, 'dovecot', 'dovecot.conf')
        asks = {
            'mailbox': lambda k, a, w, pf=pf: ask_postmap(pf, 'pgsql-virtual_mailbox_maps.cf', k, w),
            'domains': lambda k, a, w, pf=pf: ask_postmap(pf, 'pgsql-virtual_mailbox_domains.cf', k, w),
            'auth': lambda k, a, w, conf=conf: ask_auth(conf, k, a, w),
            'user': lambda k, a, w, conf=conf: ask_user(conf, k, w),
        }
        for kind, ask in asks.items():
            threads.append(threading.Thread(target=loop, args=(name, kind, ask)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()


def analyse(log, times_file, targets):
    times = {}
    with open(times_file) as f:
        for line in f:
            k, v = line.split()
            times[k] = int(v)
    rows = []
    with open(log) as f:
        for line in f:
            c = line.rstrip('\n').split('\t')
            rows.append({'target': c[0], 'kind': c[1], 'n': int(c[2]), 't0': int(c[3]), 't1': int(c[4]),
                         'key': c[5], 'verdict': c[6], 'answer': c[7], 'retried': int(c[8])})
    failed = 0

    def check(ok, text, examples=()):
        nonlocal failed
        print('%s live: %s' % ('ok  ' if ok else 'FAIL', text))
        if not ok:
            failed += 1
            for e in list(examples)[:8]:
                print('        ' + e)

    begin, commit = times['begin'], times['commit']
    switched, drop_begin, dropped = times['switched'], times['drop_begin'], times['dropped']

    def phase(r):
        # the upgrade's transaction reaches a replica when it replays it
        end = times.get(r['target'] + ':replayed', commit)
        dend = times.get(r['target'] + ':drop_replayed', dropped)
        if r['t1'] < begin:
            return 'before'
        if r['t0'] <= end:
            return 'update'
        if r['t1'] < times['switch_begin']:
            return 'compat'
        if r['t0'] <= switched:
            return 'switch'
        if r['t0'] <= dend and r['t1'] >= drop_begin:
            return 'drop'
        if r['t1'] < drop_begin:
            return 'switched'
        return 'after'

    phases = ('before', 'update', 'compat', 'switch', 'switched', 'drop', 'after')
    names = {'before': 'before the update (0.5.2 views, 0.5.2 queries)',
             'update': 'during the update (overlapping its transaction; on a replica until it replayed the commit)',
             'compat': 'after the update, old queries (compatibility views)',
             'switch': 'during vmm-cfg-upgrade and doveadm reload',
             'switched': 'after them (0.6 queries, views still there)',
             'drop': 'during drop_compatibility_views()',
             'after': 'after the views were dropped (only the 0.6 queries can answer)'}
    bad = [r for r in rows if r['verdict'] != 'ok']
    for r in rows:
        r['phase'] = phase(r)
    kinds = ('mailbox', 'domains', 'auth', 'user')
    print('live: %d lookups by the real clients (postmap -q, doveadm auth test, doveadm user) on %s over %.1f s'
          % (len(rows), ' and '.join(targets),
             (max(r['t1'] for r in rows) - min(r['t0'] for r in rows)) / 1000.0 if rows else 0))
    print('live: %-9s %s' % ('', ' '.join('%8s' % k for k in kinds)) + '   (answered / longest ms)')
    for p in phases:
        for t in targets:
            cells = []
            for k in kinds:
                rs = [r for r in rows if r['phase'] == p and r['target'] == t and r['kind'] == k]
                cells.append('%8s' % ('%d/%d' % (len(rs), max(r['t1'] - r['t0'] for r in rs)) if rs else '0'))
            print('live: %-9s %s   %s %s' % (t, ' '.join(cells), p, '' if t != targets[0] else '- ' + names[p]))
    check(not [r for r in bad if r['verdict'] == 'failed'],
          'no lookup failed (%d lookups, %d failed)' % (len(rows), sum(1 for r in bad if r['verdict'] == 'failed')),
          ['%s %s %s: %s' % (r['target'], r['kind'], r['key'], r['answer']) for r in bad if r['verdict'] == 'failed'])
    check(not [r for r in bad if r['verdict'] == 'wrong'],
          'every answer is the one expected for its key (%d wrong)' % sum(1 for r in bad if r['verdict'] == 'wrong'),
          ['%s %s %s: %s' % (r['target'], r['kind'], r['key'], r['answer']) for r in bad if r['verdict'] == 'wrong'])
    during = [r for r in rows if r['phase'] == 'update' and r['verdict'] == 'ok']
    inside = [r for r in during if r['t1'] <= times.get(r['target'] + ':replayed', commit)]
    for t in targets:
        n = [r for r in during if r['target'] == t]
        i = [r for r in inside if r['target'] == t]
        check(len(n) > 0, '%s: %d lookups answered during the update, %d of them before its commit%s (longest %d ms)'
              % (t, len(n), len(i), '' if t == targets[0] else ' was replayed',
                 max([r['t1'] - r['t0'] for r in n] or [0])))
        a = [r for r in rows if r['phase'] == 'after' and r['target'] == t and r['verdict'] == 'ok']
        check({r['kind'] for r in a} == set(kinds),
              '%s: %d lookups answered after the views were dropped, every kind (%s)'
              % (t, len(a), ', '.join('%s %d' % (k, sum(1 for r in a if r['kind'] == k)) for k in kinds)))
    races = [r for r in rows if r['retried']]
    print('live: doveadm could not connect to its Dovecot during doveadm reload and asked again: %d times (%s)'
          % (len(races), ', '.join('%s %s %s' % (r['target'], r['kind'], r['phase']) for r in races) or 'none'))
    print('live: %d lookups answered during the upgrade (%d before its commit), %d failed, %d wrong'
          % (len(during), len(inside), sum(1 for r in bad if r['verdict'] == 'failed'),
             sum(1 for r in bad if r['verdict'] == 'wrong')))
    return failed


if __name__ == '__main__':
    a = sys.argv[2:]
    if sys.argv[1] == 'run':
        run(a[0], a[1], a[2], int(a[3]), int(a[4]), a[5:])
    else:
        sys.exit(1 if analyse(a[0], a[1], a[2:]) else 0)
