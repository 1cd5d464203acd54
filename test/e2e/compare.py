#!/usr/bin/env python3
"""test/e2e/compare.py - compare what the real Postfix and Dovecot answered.

usage: compare.py LABEL PROBES A [B] [options]
       compare.py LABEL --expect EXPECT ANSWERS

PROBES  probes.tsv (test/e2e/probes.sql): key, kind, password, transport,
        found (what vmm 0.5.2's views hold for the key)
A, B    answer files, lines "CLIENT:WHAT<TAB>KEY<TAB>VALUE" (e2e_postmap_all
        in lib.sh, authprobe.py); a Postfix key without a line was not found
options:
  --expect-views      A must be exactly what the 0.5.2 views hold (found)
  --rename OLD=NEW    compare A's dovecot service OLD with B's NEW (the
                      Dovecot 1.1 -> 1.2 switch: managesieve -> sieve)
  --rules             allow vmm 0.6's deliberate differences (below)
  --postfix-only      compare the Postfix lookups only (vmm 0.4 as released:
                      no dovecot_password, so Dovecot was not asked)

Prints one line per check, "ok   LABEL: ..." or "FAIL LABEL: ...", with up
to 8 example keys for a failure.

The rules: where vmm 0.6 deliberately answers differently from vmm 0.5.2.
Every difference between A and B must be explained by one of them, else it
is a failure; each rule says how many keys it explained.
  transport-any-address  0.6's transport map answers for every address of a
      known domain: an address without an account (alias, relocated,
      unknown local part) gets the domain's transport where 0.5.2 answered
      nothing (SPEC: "for an address with no account, the domain's
      transport").  Only when B is exactly the domain's 0.5.2 transport.
  alias-interpolation    0.6 substitutes %n, %d and %= in alias
      destinations; a 0.5.2 destination that holds one of them literally
      (the old percent hack, user%domain@relay) is rewritten.  Only when B
      is A with exactly those substitutions.
  sender-login-account   vmm 0.4's sender login query (postfix_maildir
      UNION postfix_alias) answered an account that is also an alias with
      its own address and the alias' destinations; 0.6's map answers an
      account with its logins only (SPEC: "for an account, the login ...;
      else, for an alias, its distinct destinations").  Only when B is
      exactly the account's address and A held it with more.
Comparison is per key and lookup; a Postfix answer with several results
(aliases, sender logins) is compared as a set, because neither the views
nor the functions order their rows.
"""
import sys
from collections import defaultdict


def load_probes(path):
    probes = {}
    with open(path) as f:
        for line in f:
            cols = line.rstrip('\n').split('\t')
            while len(cols) < 5:
                cols.append('')
            key, kind, password, transport, found = cols[:5]
            probes[key] = {'kind': kind, 'password': password, 'transport': transport,
                           'found': set(found.split())}
    return probes


def load_answers(path):
    ans = defaultdict(dict)
    with open(path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t', 2)
            if len(parts) < 3:
                continue
            what, key, value = parts
            if what.startswith('postfix:'):
                value = frozenset(value.split(','))
            ans[what][key] = value
    return ans


def is_found(what, value):
    if value is None:
        return False
    if what.startswith('postfix:'):
        return True
    return value.startswith('found') or value.startswith('OK')


def show(v):
    if v is None:
        return '(no answer)'
    if isinstance(v, frozenset):
        return ','.join(sorted(v))
    return v


def rule_transport(what, key, a, b, p):
    if what != 'postfix:transport' or a is not None or b is None or p is None:
        return False
    if p['kind'] == 'account' or not p['transport']:
        return False
    local = key.rsplit('@', 1)[0] if '@' in key else ''
    return local != '' and b == frozenset([p['transport']])


def rule_interpolation(what, key, a, b, p):
    if what != 'postfix:alias' or a is None or b is None or '@' not in key:
        return False
    if not any(t in v for v in a for t in ('%n', '%d', '%=')):
        return False
    local, dom = key.lower().rsplit('@', 1)
    want = frozenset(v.replace('%n', local).replace('%d', dom).replace('%=', local + '=' + dom)
                     for v in a)
    return b == want


def rule_sender_account(what, key, a, b, p):
    if what != 'postfix:sender_login' or a is None or b is None or p is None:
        return False
    if 'postfix:mailbox' not in p['found']:    # not an account
        return False
    return b == frozenset([key.lower()]) and key.lower() in a and len(a) > 1


RULES = [('transport-any-address', rule_transport), ('alias-interpolation', rule_interpolation),
         ('sender-login-account', rule_sender_account)]


class Report:
    def __init__(self, label):
        self.label = label
        self.failed = 0

    def check(self, ok, text, examples=()):
        print('%s %s: %s' % ('ok  ' if ok else 'FAIL', self.label, text))
        if not ok:
            self.failed += 1
            for e in list(examples)[:8]:
                print('        ' + e)


def expectations(label, expect_path, answers_path):
    """compare.py LABEL --expect EXPECT ANSWERS: one check per expected
    answer (features-0.6.sql's e2e.expect: key, what, value, why)."""
    ans = load_answers(answers_path)
    rep = Report(label)
    with open(expect_path) as f:
        for line in f:
            key, what, value, why = line.rstrip('\n').split('\t')[:4]
            got = ans.get(what, {}).get(key)
            if what.startswith('postfix:'):
                want = frozenset(value.split(',')) if value else None
                ok = got == want
            elif value in ('notfound', 'FAIL'):
                ok = got == value
            elif value == 'OK':
                ok = got is not None and got.startswith('OK')
            elif value == 'found':
                ok = got is not None and got.startswith('found')
            else:
                ok = got is not None and got.startswith('found') and set(value.split()) <= set(got.split())
            rep.check(ok, '%s (%s %s: %s)' % (why, what, key, show(got)),
                      [] if ok else ['expected: %s' % (value or '(no answer)')])
    return 1 if rep.failed else 0


def main():
    args = sys.argv[1:]
    if len(args) >= 4 and args[1] == '--expect':
        return expectations(args[0], args[2], args[3])
    label, probes_path, a_path = args[:3]
    rest = args[3:]
    b_path = None
    if rest and not rest[0].startswith('--'):
        b_path = rest.pop(0)
    expect = '--expect-views' in rest
    use_rules = '--rules' in rest
    rename = {}
    for i, o in enumerate(rest):
        if o == '--rename':
            old, new = rest[i + 1].split('=')
            rename['dovecot:passdb:' + old] = 'dovecot:passdb:' + new
            rename['dovecot:auth:' + old] = 'dovecot:auth:' + new
            rename['dovecot:wrongpw:' + old] = 'dovecot:wrongpw:' + new
    probes = load_probes(probes_path)
    A = load_answers(a_path)
    B = load_answers(b_path) if b_path else None
    if '--postfix-only' in rest:
        for side in (A, B):
            for w in [w for w in (side or {}) if not w.startswith('postfix:')]:
                del side[w]
        for p in probes.values():
            p['found'] = {w for w in p['found'] if w.startswith('postfix:')}
    rep = Report(label)

    def keys_for(what, *sides):
        if what.startswith('postfix:'):
            return sorted(probes)
        ks = set()
        for s in sides:
            ks |= set(s.get(what, {}))
        return sorted(ks)

    # A is what the 0.5.2 views hold
    if expect:
        whats = sorted(set(A) | {w for p in probes.values() for w in p['found']})
        for what in whats:
            if what.startswith('dovecot:auth') or what.startswith('dovecot:wrongpw'):
                continue
            bad = []
            ks = keys_for(what, A) if what.startswith('dovecot:') else sorted(probes)
            for k in ks:
                want = what in probes.get(k, {'found': set()})['found']
                got = is_found(what, A.get(what, {}).get(k))
                if want != got:
                    bad.append('%s: views %s, %s' % (k, 'hold it' if want else 'do not',
                                                       show(A.get(what, {}).get(k))))
            nfound = sum(1 for k in ks if is_found(what, A.get(what, {}).get(k)))
            rep.check(not bad, 'A %s is what the 0.5.2 views hold (%d keys, %d found)'
                      % (what, len(ks), nfound), bad)

    # logins: the right password works exactly where the passdb finds the
    # account for the service; a wrong password never works (A: with
    # --expect-views, B: always)
    for side, ans in (('A', A if expect else None), ('B', B)):
        if ans is None:
            continue
        for what in sorted(w for w in ans if w.startswith('dovecot:auth:')):
            svc = what.split(':', 2)[2]
            bad = []
            for k, v in ans[what].items():
                want = is_found('dovecot:passdb:' + svc, ans.get('dovecot:passdb:' + svc, {}).get(k))
                if v.startswith('OK') != want:
                    bad.append('%s: login %s, passdb lookup %s' % (k, v, show(ans.get('dovecot:passdb:' + svc, {}).get(k))))
            rep.check(not bad, '%s %s: the right password logs in exactly where the passdb finds the account (%d logins, %d succeeded)'
                      % (side, what, len(ans[what]), sum(1 for v in ans[what].values() if v.startswith('OK'))), bad)
        wrong = [(w, k) for w in ans if w.startswith('dovecot:wrongpw:') for k, v in ans[w].items() if v != 'FAIL']
        n = sum(len(ans[w]) for w in ans if w.startswith('dovecot:wrongpw:'))
        if n:
            rep.check(not wrong, '%s: a wrong password never logs in (%d logins)' % (side, n),
                      ['%s %s: %s' % (w, k, ans[w][k]) for w, k in wrong])

    if B is None:
        return 1 if rep.failed else 0

    whats = sorted(set(A) | {rename.get(w, w) for w in A} | set(B))
    whats = [w for w in whats if w not in rename]    # compared under the new name
    inverse = {v: k for k, v in rename.items()}
    for what in whats:
        a_what = inverse.get(what, what)
        if a_what not in A and what not in B:
            continue
        if a_what not in A or what not in B:
            # one side never answered this lookup at all
            rep.check(False, 'B %s = A: %s has no answers' % (what, 'A' if a_what not in A else 'B'))
            continue
        a_ans, b_ans = A[a_what], B[what]
        if what.startswith('postfix:'):
            ks = sorted(probes)
        else:
            ks = sorted(set(a_ans) | set(b_ans))
        by_rule = defaultdict(int)
        bad = []
        for k in ks:
            a, b = a_ans.get(k), b_ans.get(k)
            if a == b:
                continue
            for name, rule in (RULES if use_rules else []):
                if rule(what, k, a, b, probes.get(k)):
                    by_rule[name] += 1
                    break
            else:
                bad.append('%s: A %s, B %s' % (k, show(a), show(b)))
        nfound = sum(1 for k in ks if is_found(what, b_ans.get(k)))
        text = 'B %s = A%s (%d keys, %d found' % (
            what, '' if a_what == what else ' ' + a_what, len(ks), nfound)
        if by_rule:
            text += '; differing by rule: ' + ', '.join('%s %d' % r for r in sorted(by_rule.items()))
        rep.check(not bad, text + ')', bad)
        for name, n in sorted(by_rule.items()):
            print('rule %s: %s %s: %d keys' % (label, what, name, n))
    return 1 if rep.failed else 0


if __name__ == '__main__':
    sys.exit(main())
