#!/usr/bin/env python3
"""docs.consistency: the documentation names what the code accepts.

* Every long and short option of daemon/main.c's option table (and the
  getopt_long() short-option string) appears in `cloudsagad --help` and in
  man/cloudsagad.8.
* Every configuration key the parser accepts - the key tables of
  daemon/config*.c, and every key that
  `cloudsagad --print-config` prints for tests/data/config/full.conf (the
  file that sets every key) - has an entry in its section of
  man/cloudsagad.conf.5 and is mentioned in its block of
  etc/cloudsagad.conf.  A key of the tables that full.conf does not set is
  reported too (full.conf is the golden test of every key).
* Every journal field the reporter sends (each "CLOUDSAGA_..." name in
  daemon/report.c and daemon/report_build.c) is named in the JOURNAL
  FIELDS section of man/cloudsagad.8, and every MESSAGE_ID of
  daemon/msgid.h in its MESSAGE IDS section.

Fails with the list of everything missing.  Run by ctest with CLOUDSAGAD
and CLOUDSAGA_SRC set; by hand: CLOUDSAGAD=build/cloudsagad
tests/docs_consistency.py.
"""
import os
import re
import subprocess
import sys

SRC = os.environ.get("CLOUDSAGA_SRC",
                     os.path.dirname(os.path.dirname(os.path.abspath(
                         __file__))))
CLOUDSAGAD = os.environ.get("CLOUDSAGAD", os.path.join(SRC, "build",
                                                       "cloudsagad"))

# Top-level groups -> their section in cloudsagad.conf(5).
SECTIONS = {"daemon": "DAEMON", "aws": "AWS", "accounts": "ACCOUNTS",
            "verify": "VERIFY", "coverage": "COVERAGE",
            "history": "HISTORY", "known_gaps": "KNOWN GAPS",
            "schedule": "SCHEDULE", "scenarios": "CUSTOM SCENARIOS",
            "live": "LIVE"}
# Groups whose members are values, not keys: service names, scenario
# settings, request parameters.
FREE_FORM = {"aws.endpoints", "schedule.settings", "scenarios.steps.params"}
# Parser functions -> the group their key tables are for (looked up in
# every daemon/config*.c: the loader may move a parser between its files).
TABLE_GROUPS = {
    ("config_parse_daemon", "keys"): "daemon",
    ("config_parse_aws", "keys"): "aws",
    ("config_parse_account", "keys"): "accounts",
    ("config_parse_account", "rkeys"): "accounts.regions",
    ("config_parse_verify", "keys"): "verify",
    ("config_parse_coverage", "keys"): "coverage",
    ("config_parse_history", "keys"): "history",
    ("config_parse_known_gaps", "keys"): "known_gaps",
    ("config_parse_entry", "keys"): "schedule",
    ("config_parse_root", "keys"): "",
    ("config_org_parse_account", "keys"): "accounts.organization",
    (None, "config_custom_scenario_keys"): "scenarios",
    (None, "config_custom_step_keys"): "scenarios.steps",
}


def read(*path):
    with open(os.path.join(SRC, *path), encoding="utf-8") as f:
        return f.read()


def run(*args):
    p = subprocess.run([CLOUDSAGAD] + list(args), capture_output=True,
                       text=True, timeout=60, cwd=SRC)
    if p.returncode != 0:
        sys.exit("docs.consistency: cloudsagad %s failed (exit %d):\n%s" %
                 (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def troff_text(s):
    """Roughly what a reader sees: escapes resolved, fonts dropped."""
    s = s.replace("\\-", "-").replace("\\(dq", '"').replace("\\e", "\\")
    s = re.sub(r"\\f[BIRP]|\\f\(..|\\&|\\\||\\c|\\ ", "", s)
    return s


def has_option(text, opt):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text)


# ---- options ------------------------------------------------------------

def main_c_options():
    src = read("daemon", "main.c")
    table = re.search(r"longopts\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not table:
        sys.exit("docs.consistency: no longopts table in daemon/main.c")
    longs, shorts = [], []
    for name, val in re.findall(
            r'\{\s*"([a-z][a-z0-9-]*)",\s*\w+,\s*NULL,\s*([^}\s]+)\s*\}',
            table.group(1)):
        longs.append("--" + name)
        m = re.fullmatch(r"'(.)'", val)
        if m:
            shorts.append("-" + m.group(1))
    m = re.search(r'getopt_long\(argc,\s*argv,\s*"([^"]*)"', src)
    if not m:
        sys.exit("docs.consistency: no getopt_long() call in daemon/main.c")
    shorts += ["-" + c for c in m.group(1) if c.isalnum()]
    if len(longs) < 10:
        sys.exit("docs.consistency: found only %r in main.c's table" % longs)
    return longs, sorted(set(shorts))


def check_options(problems):
    longs, shorts = main_c_options()
    helptext = run("--help")
    man = troff_text(read("man", "cloudsagad.8"))
    for opt in longs + shorts:
        if not has_option(helptext, opt):
            problems.append("option %s: not in cloudsagad --help" % opt)
        if not has_option(man, opt):
            problems.append("option %s: not in man/cloudsagad.8" % opt)
    return len(longs) + len(shorts)


# ---- configuration keys ------------------------------------------------

def config_sources():
    d = os.path.join(SRC, "daemon")
    return "\n".join(read("daemon", f) for f in sorted(os.listdir(d))
                     if f.startswith("config") and f.endswith(".c"))


def table_keys():
    keys = set()
    src = config_sources()
    for (func, var), group in TABLE_GROUPS.items():
        body = src
        if func is not None:
            m = re.search(r"^%s\(.*?^\}" % func, src, re.S | re.M)
            if not m:
                sys.exit("docs.consistency: no %s() in daemon/config*.c" %
                         func)
            body = m.group(0)
        m = re.search(r"const char \*const %s\[\]\s*=\s*\{(.*?)\};" % var,
                      body, re.S)
        if not m:
            sys.exit("docs.consistency: no %s[] in daemon/config*.c%s" % (
                var, " %s()" % func if func else ""))
        for k in re.findall(r'"([a-z_]+)"', m.group(1)):
            keys.add(group + "." + k if group else k)
    return keys


def printed_keys(text):
    """Dotted key paths of a --print-config output (list elements share
    their list's path)."""
    keys, stack = set(), []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([a-z_][a-z0-9_]*)\s*=\s*(.*)$", line)
        if m:
            path = ".".join([s for s in stack if s] + [m.group(1)])
            keys.add(path)
            rest = m.group(2)
            if rest.startswith(("{", "(")) and not re.search(r"[})];?$",
                                                             rest):
                stack.append(m.group(1))
            continue
        if line.startswith("{") or line.startswith("("):
            if not re.search(r"[})],?;?$", line):
                stack.append("")        # an element of a list
            continue
        if re.match(r"[})]", line):
            if stack:
                stack.pop()
    return {k for k in keys
            if not any(k.startswith(f + ".") for f in FREE_FORM)}


def man_sections(man):
    secs, name = {}, None
    for line in man.splitlines():
        m = re.match(r'\.SH\s+"?([^"]+)"?\s*$', line)
        if m:
            name = m.group(1)
            secs[name] = []
            continue
        if name:
            secs[name].append(line)
    return {k: "\n".join(v) for k, v in secs.items()}


def etc_blocks(text):
    """Each top-level setting of the example with the comment block just
    above it."""
    blocks, pending, current = {}, [], None
    for line in text.splitlines():
        m = re.match(r"([a-z_]+)\s*=", line)
        if m:
            current = m.group(1)
            blocks.setdefault(current, []).extend(pending)
            pending = []
            blocks[current].append(line)
        elif line.startswith("#") and (pending or current is None or
                                       not line.startswith("#\t")):
            pending.append(line)
        elif not line.strip():
            if pending and current is not None:
                blocks[current].extend(pending)
            pending = []
            if current is not None:
                blocks[current].append(line)
        elif current is not None:
            blocks[current].append(line)
    return {k: "\n".join(v) for k, v in blocks.items()}


def check_keys(problems):
    tables = table_keys()
    printed = printed_keys(run("--print-config", "-c",
                               "tests/data/config/full.conf"))
    for k in sorted(tables - printed):
        problems.append("key %s: accepted by the parser but not set by "
                        "tests/data/config/full.conf (which sets every key)"
                        % k)
    keys = tables | printed
    man = read("man", "cloudsagad.conf.5")
    secs = man_sections(man)
    etc = etc_blocks(read("etc", "cloudsagad.conf"))
    for k in sorted(keys):
        top, leaf = k.split(".")[0], k.split(".")[-1]
        sec = SECTIONS.get(top)
        if sec is None or sec not in secs:
            problems.append("key %s: no section for \"%s\" in "
                            "man/cloudsagad.conf.5" % (k, top))
        else:
            text = secs[sec]
            entry = re.search(r"^\.B[RI]?\s+%s(\s|$)" % re.escape(leaf),
                              text, re.M)
            if top == k:        # the group itself: "daemon = { ... };"
                entry = entry or re.search(r'^\.B\s+"%s = ' % re.escape(k),
                                           text, re.M)
            if not entry:
                problems.append("key %s: no entry in man/cloudsagad.conf.5 "
                                "(section %s)" % (k, sec))
        block = etc.get(top)
        if block is None:
            problems.append("key %s: no \"%s = ...\" in etc/cloudsagad.conf"
                            % (k, top))
        elif not re.search(r"\b%s\b" % re.escape(leaf), block):
            problems.append("key %s: not mentioned in the \"%s\" block of "
                            "etc/cloudsagad.conf" % (k, top))
    return len(keys)


# ---- journal fields and MESSAGE_IDs ---------------------------------------

def man_section(man, title):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % re.escape(title), man,
                  re.M | re.S)
    return troff_text(m.group(1)) if m else None


def check_journal(problems):
    code = read("daemon", "report.c") + read("daemon", "report_build.c")
    # A name, not a prefix ("CLOUDSAGA_REPORT_" in a strncmp()).
    fields = set(re.findall(r'"(CLOUDSAGA_[A-Z0-9_]*[A-Z0-9])[="]', code))
    ids = re.findall(r'#define\s+(MSGID_[A-Z_]+)\s+"([0-9a-f]{32})"',
                     read("daemon", "msgid.h"))
    if len(fields) < 20 or len(ids) < 10:
        sys.exit("docs.consistency: found only %d journal fields, %d "
                 "MESSAGE_IDs" % (len(fields), len(ids)))
    man = read("man", "cloudsagad.8")
    text = man_section(man, "JOURNAL FIELDS")
    if text is None:
        problems.append("no JOURNAL FIELDS section in man/cloudsagad.8")
    else:
        for f in sorted(fields):
            if not re.search(r"\b%s\b" % f, text):
                problems.append("journal field %s: not in the JOURNAL "
                                "FIELDS section of man/cloudsagad.8" % f)
    text = man_section(man, "MESSAGE IDS")
    if text is None:
        problems.append("no MESSAGE IDS section in man/cloudsagad.8")
    else:
        for name, mid in ids:
            if mid not in text:
                problems.append("MESSAGE_ID %s (%s): not in the MESSAGE IDS "
                                "section of man/cloudsagad.8" % (mid, name))
    return len(fields), len(ids)


def main():
    problems = []
    nopts = check_options(problems)
    nkeys = check_keys(problems)
    nfields, nids = check_journal(problems)
    if problems:
        print("docs.consistency: %d problem%s:" % (
            len(problems), "" if len(problems) == 1 else "s"))
        for p in problems:
            print("  " + p)
        return 1
    print("docs.consistency: %d options in --help and cloudsagad(8), %d "
          "configuration keys in cloudsagad.conf(5) and etc/cloudsagad.conf, "
          "%d journal fields and %d MESSAGE_IDs in cloudsagad(8)"
          % (nopts, nkeys, nfields, nids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
