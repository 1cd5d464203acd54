#!/usr/bin/env python3
"""test/meta_check.py - META.json against the PGXN Meta Spec 1.0.0, and
against the distribution it describes.

usage: python3 test/meta_check.py [DIR]     DIR: the distribution's top
                                            (default: this repository)
       python3 test/meta_check.py --self-test

The spec's rules (https://pgxn.org/spec/, version 1.0.0), checked with the
json module alone: the required keys (name, abstract, maintainer, license,
provides, version, meta-spec) and the types and forms of every key there is
(terms, SemVer versions, version ranges, the license names, prereq phases
and relationships, resources, tags, release_status, no_index), no unknown
key except x_/X_ ones.  Then the distribution: version is the file VERSION,
every provided extension has that version and a control file of its name,
every file and docfile named exists, the license is the one in LICENSE.

--self-test breaks a copy of the real META.json in one way at a time; each
must be refused.  Prints "ok - ..." / "not ok - ..." lines; exit 1 on any
failure.
"""
import copy
import json
import os
import re
import sys

LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown",
}
# what LICENSE must start with for a license name we use
LICENSE_TEXT = {"postgresql": "PostgreSQL License"}
REQUIRED = ["name", "abstract", "maintainer", "license", "provides", "version", "meta-spec"]
OPTIONAL = ["description", "generated_by", "no_index", "prereqs", "release_status",
            "resources", "tags"]
PHASES = ["configure", "build", "runtime", "test", "develop"]
RELATIONS = ["requires", "recommends", "suggests", "conflicts"]

_ident = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER = (r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
          r"(?:-" + _ident + r"(?:\." + _ident + r")*)?"
          r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?")
SEMVER_RE = re.compile("^" + SEMVER + "$")
RANGE_ITEM_RE = re.compile(r"^(?:(?:[=!]=|[<>]=?)\s*)?" + SEMVER + "$")


def is_term(s):
    """A term: two or more characters, none of them a slash, a backslash,
    white space or a control character."""
    return (isinstance(s, str) and len(s) >= 2 and
            not any(c in "/\\" or c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160
                    for c in s))


def is_range(v):
    if v == 0 and not isinstance(v, bool):
        return True
    if not isinstance(v, str):
        return False
    items = [i.strip() for i in v.split(",")]
    if len(items) == 1 and items[0] == "0":
        return True
    return all(RANGE_ITEM_RE.match(i) for i in items)


def is_path(s):
    return (isinstance(s, str) and len(s) >= 2 and not s.startswith("/") and
            "\\" not in s and ".." not in s.split("/"))


def custom(k):
    return isinstance(k, str) and len(k) > 2 and k[:2] in ("x_", "X_")


def spec_errors(m):
    """Every way m breaks the PGXN Meta Spec 1.0.0."""
    e = []
    if not isinstance(m, dict):
        return ["META.json is not an object"]
    for k in REQUIRED:
        if k not in m:
            e.append("required key %r missing" % k)
    for k in m:
        if k not in REQUIRED and k not in OPTIONAL and not custom(k):
            e.append("unknown key %r (custom keys start with x_)" % k)

    def nonempty_str(k):
        if k in m and not (isinstance(m[k], str) and m[k].strip()):
            e.append("%s must be a non-empty string" % k)

    if "name" in m and not is_term(m["name"]):
        e.append("name must be a term (2+ characters, no slash, backslash, space)")
    nonempty_str("abstract")
    nonempty_str("description")
    nonempty_str("generated_by")
    if "version" in m and not (isinstance(m["version"], str) and SEMVER_RE.match(m["version"])):
        e.append("version %r is not a semantic version" % (m["version"],))
    if "maintainer" in m:
        mt = m["maintainer"]
        ok = (isinstance(mt, str) and mt.strip()) or (
            isinstance(mt, list) and mt and len(set(map(str, mt))) == len(mt) and
            all(isinstance(x, str) and x.strip() for x in mt))
        if not ok:
            e.append("maintainer must be a string or a list of distinct strings")
    if "license" in m:
        lic = m["license"]
        if isinstance(lic, str):
            ok = lic in LICENSES
        elif isinstance(lic, list):
            ok = bool(lic) and len(set(lic)) == len(lic) and all(x in LICENSES for x in lic)
        elif isinstance(lic, dict):
            ok = bool(lic) and all(isinstance(v, str) and re.match(r"^[a-z][a-z0-9+.-]*:", v)
                                   for v in lic.values())
        else:
            ok = False
        if not ok:
            e.append("license %r is none of the spec's license names" % (lic,))
    if "meta-spec" in m:
        ms = m["meta-spec"]
        if not isinstance(ms, dict) or not re.match(r"^1\.0\.\d+$", str(ms.get("version", ""))):
            e.append("meta-spec.version must be 1.0.x")
        elif "url" in ms and ms["url"] not in ("https://pgxn.org/meta/spec.txt",
                                              "http://pgxn.org/meta/spec.txt"):
            e.append("meta-spec.url is not the spec's")
        elif any(k not in ("version", "url") and not custom(k) for k in ms):
            e.append("meta-spec has unknown keys")
    if "provides" in m:
        pv = m["provides"]
        if not isinstance(pv, dict) or not pv:
            e.append("provides must be an object naming at least one extension")
        else:
            for ext, d in pv.items():
                if not is_term(ext):
                    e.append("provides: %r is not a term" % ext)
                if not isinstance(d, dict):
                    e.append("provides.%s must be an object" % ext)
                    continue
                for k in ("file", "version"):
                    if k not in d:
                        e.append("provides.%s.%s missing" % (ext, k))
                if "file" in d and not is_path(d["file"]):
                    e.append("provides.%s.file is not a relative path" % ext)
                if "docfile" in d and not is_path(d["docfile"]):
                    e.append("provides.%s.docfile is not a relative path" % ext)
                if "version" in d and not (isinstance(d["version"], str) and
                                           SEMVER_RE.match(d["version"])):
                    e.append("provides.%s.version is not a semantic version" % ext)
                for k in ("abstract", "docpath"):
                    if k in d and not (isinstance(d[k], str) and d[k]):
                        e.append("provides.%s.%s must be a non-empty string" % (ext, k))
                for k in d:
                    if k not in ("file", "version", "abstract", "docfile", "docpath") and not custom(k):
                        e.append("provides.%s: unknown key %r" % (ext, k))
    if "prereqs" in m:
        pr = m["prereqs"]
        if not isinstance(pr, dict) or not any(p in pr for p in PHASES):
            e.append("prereqs must name at least one phase of %s" % PHASES)
        else:
            for ph, rels in pr.items():
                if custom(ph):
                    continue
                if ph not in PHASES:
                    e.append("prereqs: unknown phase %r" % ph)
                    continue
                if not isinstance(rels, dict) or not any(r in rels for r in RELATIONS):
                    e.append("prereqs.%s must name one of %s" % (ph, RELATIONS))
                    continue
                for rel, deps in rels.items():
                    if custom(rel):
                        continue
                    if rel not in RELATIONS:
                        e.append("prereqs.%s: unknown relationship %r" % (ph, rel))
                        continue
                    if not isinstance(deps, dict) or not deps:
                        e.append("prereqs.%s.%s must be a non-empty object" % (ph, rel))
                        continue
                    for name, rng in deps.items():
                        if not is_term(name):
                            e.append("prereqs.%s.%s: %r is not a term" % (ph, rel, name))
                        if not is_range(rng):
                            e.append("prereqs.%s.%s.%s: %r is not a version range"
                                     % (ph, rel, name, rng))
    if "release_status" in m and m["release_status"] not in ("stable", "testing", "unstable"):
        e.append("release_status must be stable, testing or unstable")
    if "resources" in m:
        rs = m["resources"]
        uri = lambda v: isinstance(v, str) and re.match(r"^[a-z][a-z0-9+.-]*://\S+$", v)
        if not isinstance(rs, dict) or not any(k in rs for k in ("homepage", "bugtracker", "repository")):
            e.append("resources must name homepage, bugtracker or repository")
        else:
            for k, v in rs.items():
                if custom(k):
                    continue
                if k == "homepage":
                    if not uri(v):
                        e.append("resources.homepage is not a URI")
                elif k == "bugtracker":
                    if (not isinstance(v, dict) or not ("web" in v or "mailto" in v) or
                            ("web" in v and not uri(v["web"])) or
                            ("mailto" in v and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", str(v["mailto"]))) or
                            any(x not in ("web", "mailto") and not custom(x) for x in v)):
                        e.append("resources.bugtracker needs web (a URI) or mailto (an address)")
                elif k == "repository":
                    if (not isinstance(v, dict) or
                            not (("url" in v and "type" in v) or "web" in v) or
                            any(x in v and not uri(v[x]) for x in ("url", "web")) or
                            ("type" in v and not re.match(r"^[a-z]+$", str(v["type"]))) or
                            any(x not in ("url", "web", "type") and not custom(x) for x in v)):
                        e.append("resources.repository needs url and type, or web")
                else:
                    e.append("resources: unknown key %r" % k)
    if "tags" in m:
        t = m["tags"]
        if (not isinstance(t, list) or not t or len(set(map(str, t))) != len(t) or
                not all(isinstance(x, str) and 2 <= len(x) <= 255 and
                        not any(c in "/\\" or ord(c) < 32 for c in x) for x in t)):
            e.append("tags must be distinct strings of 2 to 255 characters, no slashes")
    if "no_index" in m:
        ni = m["no_index"]
        def paths(v):
            return is_path(v) or (isinstance(v, list) and v and all(is_path(x) for x in v))
        if (not isinstance(ni, dict) or not ("file" in ni or "directory" in ni) or
                any(not paths(ni[k]) for k in ("file", "directory") if k in ni)):
            e.append("no_index needs file or directory paths")
    return e


def dist_errors(m, top):
    """Every way m disagrees with the distribution in top."""
    e = []
    try:
        release = open(os.path.join(top, "VERSION")).read().strip()
    except OSError:
        return ["no file VERSION in %s" % top]
    if m.get("version") != release:
        e.append("version %r is not the release %r (the file VERSION)" % (m.get("version"), release))
    for ext, d in (m.get("provides") or {}).items():
        if not isinstance(d, dict):
            continue
        if d.get("version") != release:
            e.append("provides.%s.version %r is not the release %r" % (ext, d.get("version"), release))
        if not os.path.isfile(os.path.join(top, ext + ".control")):
            e.append("provides %r but there is no %s.control" % (ext, ext))
        for k in ("file", "docfile"):
            if k in d and not os.path.isfile(os.path.join(top, str(d[k]))):
                e.append("provides.%s.%s %r is not in the distribution" % (ext, k, d[k]))
    lic = m.get("license")
    for name in ([lic] if isinstance(lic, str) else lic if isinstance(lic, list) else []):
        want = LICENSE_TEXT.get(name)
        try:
            first = open(os.path.join(top, "LICENSE")).readline().strip()
        except OSError:
            first = None
        if want is None:
            e.append("license %r: this check knows no text for it" % name)
        elif first != want:
            e.append("license %r but LICENSE starts with %r" % (name, first))
    return e


def report(ok, what):
    print(("ok - " if ok else "not ok - ") + what)
    return ok


def check(top):
    path = os.path.join(top, "META.json")
    try:
        with open(path) as f:
            m = json.load(f)
    except (OSError, ValueError) as x:
        report(False, "META.json reads as JSON (%s)" % x)
        return False
    good = True
    errs = spec_errors(m)
    good &= report(not errs, "META.json follows the PGXN Meta Spec 1.0.0" +
                   ("".join("\n#   " + x for x in errs)))
    errs = dist_errors(m, top)
    good &= report(not errs, "META.json matches the distribution (version %s, files, license)"
                   % m.get("version") + ("".join("\n#   " + x for x in errs)))
    return good


def self_test(top):
    with open(os.path.join(top, "META.json")) as f:
        real = json.load(f)
    def without(k):
        return lambda m: m.pop(k)
    def setter(path, value):
        def f(m):
            d = m
            for p in path[:-1]:
                d = d[p]
            d[path[-1]] = value
        return f
    ext = next(iter(real["provides"]))
    cases = [
        ("no name", without("name")),
        ("no abstract", without("abstract")),
        ("no maintainer", without("maintainer")),
        ("no license", without("license")),
        ("no provides", without("provides")),
        ("no version", without("version")),
        ("no meta-spec", without("meta-spec")),
        ("a name with a space", setter(["name"], "vmm upgrade")),
        ("a version that is no SemVer", setter(["version"], "1.1")),
        ("a version other than VERSION", setter(["version"], "9.9.9")),
        ("an extension version other than VERSION", setter(["provides", ext, "version"], "0.6+1.1.0")),
        ("an extension without file", lambda m: m["provides"][ext].pop("file")),
        ("a file that is not there", setter(["provides", ext, "file"], "sql/nothing.sql")),
        ("an unknown license", setter(["license"], "postgres")),
        ("a license LICENSE does not hold", setter(["license"], "mit")),
        ("meta-spec 2.0.0", setter(["meta-spec", "version"], "2.0.0")),
        ("an unknown key", setter(["homepage"], "https://example.org/")),
        ("an unknown prereq phase", setter(["prereqs", "install"], {"requires": {"PostgreSQL": "15.0.0"}})),
        ("a bad version range", setter(["prereqs", "runtime", "requires", "PostgreSQL"], "15")),
        ("a bad release_status", setter(["release_status"], "final")),
        ("an empty tag list", setter(["tags"], [])),
        ("a bugtracker without web or mailto", setter(["resources", "bugtracker"], {})),
    ]
    good = True
    for what, f in cases:
        m = copy.deepcopy(real)
        try:
            f(m)
        except KeyError:
            good &= report(False, "self-test: %s (META.json lacks what this case changes)" % what)
            continue
        refused = bool(spec_errors(m) or dist_errors(m, top))
        good &= report(refused, "self-test: META.json with %s is refused" % what)
    return good


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    if len(argv) > 1 and argv[1] == "--self-test":
        top = argv[2] if len(argv) > 2 else os.path.dirname(here)
        return 0 if self_test(top) else 1
    top = argv[1] if len(argv) > 1 else os.path.dirname(here)
    return 0 if check(top) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
