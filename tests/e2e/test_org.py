"""Organizations discovery end to end (#13).

The sandbox builds an organisation (`seed org`): the caller's account
manages it, its members have a role `cloudsaga-audit` trusting the
management account, one member has no such role, one is suspended.  The
real daemon (-d, stderr; verdicts from the JSON-lines report file) is
configured with one organisation account and no account IDs: it lists the
organisation with Organizations ListAccounts, assumes the role in each
ACTIVE member and runs the schedule there.  Checked against the sandbox's
ground truth (`/_sandbox/events`):

* one run per active member with the role (the management account is
  listed too), under the account name
  ORG/ID, every verdict `logged` by a CloudTrail record of that very
  account (recipientAccountId), never another member's;
* the member whose role cannot be assumed is a could-not-test record for
  that account (AccessDenied on sts:AssumeRole), not a silent skip; the
  suspended member is not tested; an excluded member is not tested;
* ListAccounts refused (the organisation account's role_arn is a member's
  role: a member may not list the organisation) is one could-not-test
  record for the organisation;
* an account closed and one created between cycles are logged once each
  (notice), and the closed one is not tested any more;
* two instances with shard = "1/2" and "2/2" split the members disjointly
  and together cover every one, as the documented hash says;
* -n prints the share of listed accounts.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, SRC, Sandbox, aws_cli, clean_env, cloudsagad

ROLE = "cloudsaga-audit"
MANAGEMENT = "123456789012"     # the fake key's account in moto

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; %(daemon)s };
verify = { initial_delay = "2s"; interval = "2s"; deadline = "40s"; };
coverage = { eventbridge = false; };
accounts = ( { name = "org"; %(acct)s organization = { role_name = "%(role)s"; %(org)s }; } );
schedule = ( { scenario = "network-changes"; every = "1h"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


def shard_of(account_id, n):
    """The documented shard hash (daemon/org.h, cloudsagad.conf(5))."""
    h = int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:8],
                       "big")
    return h % n + 1


class Daemon:
    def __init__(self, conf, sandbox):
        env = clean_env(AWS_ENDPOINT_URL=sandbox.url)
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([CLOUDSAGAD, "-d", "-c", conf], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.err)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()


class OrgTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox()
        out = subprocess.run(
            [os.path.join(SRC, "tests", "sandbox", "seed"), "--endpoint",
             cls.sb.url, "org", "--accounts", "7", "--no-role", "6",
             "--suspended", "1", "--role-name", ROLE],
            check=True, env=clean_env(), capture_output=True, text=True)
        cls.org = json.loads(out.stdout)
        members = cls.org["accounts"]
        cls.no_role = members[5]["id"]
        cls.suspended = members[6]["id"]
        cls.with_role = [m["id"] for m in members[:5]]
        assert cls.org["organization"]["managementAccountId"] == MANAGEMENT
        assert members[6]["status"] == "SUSPENDED", members[6]

    @classmethod
    def tearDownClass(cls):
        cls.sb.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-org.")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers -----------------------------------------------------------

    def write(self, sub, daemon="", acct="", org=""):
        d = os.path.join(self.dir, sub)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "cloudsagad.conf")
        with open(path, "w") as f:
            f.write(CONF % {"dir": d, "daemon": daemon, "acct": acct,
                            "role": ROLE, "org": org})
        return path

    def start(self, conf):
        d = Daemon(conf, self.sb)
        self.daemons.append(d)
        return d

    def report(self, sub):
        path = os.path.join(self.dir, sub, "state", "report.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait(self, sub, pred, daemon, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.report(sub)
            if pred(lines):
                return lines
            if daemon.proc.poll() is not None:
                self.fail("daemon exited: " + daemon.stderr()[-3000:])
            time.sleep(0.3)
        self.fail("report never complete:\n%s\n--- stderr:\n%s" % (
            "\n".join(json.dumps(x) for x in self.report(sub)),
            daemon.stderr()[-4000:]))

    @staticmethod
    def accounts_done(lines, accounts):
        """Every account has a summary or a could-not-test record."""
        seen = {x["account"] for x in lines
                if x["kind"] in ("summary", "could-not-test")}
        return set(accounts) <= seen

    def truth(self):
        return self.sb.admin("events")["events"]

    # -- tests ---------------------------------------------------------------

    def test_discovery_verdicts_per_account(self):
        excluded = self.with_role[4]
        conf = self.write("one", org='exclude = [ "%s" ];' % excluded)
        d = self.start(conf)
        # The management account is listed too (as in AWS); the sandbox
        # lets its role be assumed.
        tested = self.with_role[:4] + [MANAGEMENT]
        names = ["org/" + i for i in tested + [self.no_role]]
        lines = self.wait("one", lambda ls: self.accounts_done(ls, names), d)

        # One run per tested member, each summarised, all logged.
        summaries = {x["account"]: x for x in lines if x["kind"] == "summary"}
        for i in tested:
            s = summaries.get("org/" + i)
            self.assertIsNotNone(s, "no summary for %s: %s" % (i, lines))
            self.assertGreater(s["expected"], 0, s)
            self.assertEqual(s["logged"], s["expected"], s)
        events = {e["record"]["eventID"]: e for e in self.truth()}
        verdicts = [x for x in lines if x["kind"] == "verdict"]
        self.assertTrue(verdicts)
        for v in verdicts:
            acct_id = v["account"].split("/", 1)[1]
            self.assertIn(acct_id, tested, v)
            self.assertEqual(v["verdict"], "logged", v)
            # Proved by a record of that account's own CloudTrail.
            rec = events[v["event_id"]]
            self.assertEqual(rec["account"], acct_id, v)
            self.assertEqual(rec["record"]["recipientAccountId"], acct_id)
            self.assertEqual(rec["record"]["userIdentity"]["type"],
                             "AssumedRole")
            self.assertIn(":assumed-role/%s/" % ROLE,
                          rec["record"]["userIdentity"]["arn"])
        # Every tested member's calls were made in that member.
        for i in tested:
            self.assertTrue(any(v["account"] == "org/" + i
                                for v in verdicts), i)

        # The member without the role: could not test, with the reason.
        cnt = [x for x in lines if x["kind"] == "could-not-test"]
        self.assertEqual([x["account"] for x in cnt],
                         ["org/" + self.no_role], cnt)
        self.assertIn("AccessDenied", json.dumps(cnt[0]))
        self.assertIn("sts:AssumeRole", json.dumps(cnt[0]))
        # Suspended, excluded and the management account: not tested.
        accounts = {x["account"] for x in lines}
        for i in (self.suspended, excluded):
            self.assertNotIn("org/" + i, accounts)
        err = d.stderr()
        # 5 members with the role, 1 without, the management account.
        self.assertIn("organisation org: 7 active accounts", err)
        self.assertIn("1 excluded", err)

    def test_list_accounts_refused_is_could_not_test(self):
        # A member's role may not list the organisation: ListAccounts is
        # refused with AccessDeniedException.
        member_role = "arn:aws:iam::%s:role/%s" % (self.with_role[0], ROLE)
        conf = self.write("denied", acct='role_arn = "%s";' % member_role)
        d = self.start(conf)
        lines = self.wait("denied", lambda ls: self.accounts_done(
            ls, ["org"]), d, timeout=60)
        cnt = [x for x in lines if x["kind"] == "could-not-test"]
        self.assertEqual(len(cnt), 1, lines)
        self.assertEqual(cnt[0]["account"], "org")
        f = cnt[0]["failures"][0]
        self.assertEqual((f["service"], f["action"]),
                         ("organizations", "ListAccounts"))
        self.assertEqual(f["error_code"], "AccessDeniedException")
        # Nothing else was started.
        self.assertFalse([x for x in lines if x["kind"] != "could-not-test"])

    def test_shards_split_disjointly(self):
        confs = [self.write("s%d" % k, daemon='shard = "%d/2";' % k)
                 for k in (1, 2)]
        daemons = [self.start(c) for c in confs]
        members = self.with_role + [self.no_role, MANAGEMENT]
        want = {k: {i for i in members if shard_of(i, 2) == k}
                for k in (1, 2)}
        got = {}
        for k in (1, 2):
            names = ["org/" + i for i in want[k]]
            lines = self.wait("s%d" % k, lambda ls: self.accounts_done(
                ls, names), daemons[k - 1])
            got[k] = {x["account"].split("/", 1)[1] for x in lines
                      if x["kind"] in ("summary", "could-not-test")}
        self.assertEqual(got[1], want[1])
        self.assertEqual(got[2], want[2])
        self.assertFalse(got[1] & got[2])
        self.assertEqual(got[1] | got[2], set(members))
        self.assertIn("left to other shards", daemons[0].stderr())

    def test_member_also_configured_is_tested_once(self):
        # A member that the configuration also names as an account of its
        # own (role_arn in that member) is tested once, under that name.
        member = self.with_role[0]
        d = os.path.join(self.dir, "twice")
        os.makedirs(d)
        conf = os.path.join(d, "cloudsagad.conf")
        direct = ('{ name = "direct"; role_arn = '
                  '"arn:aws:iam::%s:role/%s"; }' % (member, ROLE))
        with open(conf, "w") as f:
            f.write((CONF % {"dir": d, "daemon": "", "acct": "",
                             "role": ROLE, "org": ""}).replace(
                "}; } );", "}; }, %s );" % direct, 1))
        daemon = self.start(conf)
        others = ["org/" + i for i in self.with_role[1:] +
                  [self.no_role, MANAGEMENT]]
        lines = self.wait("twice", lambda ls: self.accounts_done(
            ls, others + ["direct"]), daemon)
        accounts = {x["account"] for x in lines}
        self.assertNotIn("org/" + member, accounts)
        verdicts = [x for x in lines if x["kind"] == "verdict" and
                    x["account"] == "direct"]
        self.assertTrue(verdicts, lines)
        events = {e["record"]["eventID"]: e for e in self.truth()}
        for v in verdicts:
            self.assertEqual(v["verdict"], "logged", v)
            self.assertEqual(events[v["event_id"]]["account"], member, v)
        err = daemon.stderr()
        self.assertIn("member %s is the account \"direct\" of this "
                      "entry: tested once, as direct" % member, err)
        self.assertIn("1 tested under their own account name", err)

    def test_membership_changes_logged_once(self):
        # An organisation of its own (a second sandbox): one member closed
        # and one created between cycles.
        with Sandbox() as sb:
            def seed(n):
                out = subprocess.run(
                    [os.path.join(SRC, "tests", "sandbox", "seed"),
                     "--endpoint", sb.url, "org", "--accounts", str(n),
                     "--role-name", ROLE], check=True, env=clean_env(),
                    capture_output=True, text=True)
                return [a["id"] for a in json.loads(out.stdout)["accounts"]]
            first = seed(2)
            d = os.path.join(self.dir, "members")
            os.makedirs(d)
            conf = os.path.join(d, "cloudsagad.conf")
            with open(conf, "w") as f:
                f.write((CONF % {"dir": d, "daemon": "", "acct": "",
                                 "role": ROLE, "org": ""}).replace(
                    'every = "1h"', 'every = "10s"'))
            daemon = Daemon(conf, sb)
            self.daemons.append(daemon)
            names = ["org/" + i for i in first + [MANAGEMENT]]
            self.wait("members", lambda ls: self.accounts_done(ls, names),
                      daemon, timeout=90)
            # The aws CLI with a scrubbed environment (whatever the caller
            # exported).
            aws_cli(sb.url, "organizations", "close-account",
                    "--account-id", first[0])
            added = seed(1)[0]
            self.wait("members", lambda ls: self.accounts_done(
                ls, ["org/" + added]), daemon, timeout=90)
            # The listing that found the new member came after the close,
            # and after every run of the cycle before (an entry does not
            # start while busy): the closed member's count is final.
            def closed_runs():
                return len([x for x in self.report("members")
                            if x["kind"] == "summary" and
                            x["account"] == "org/" + first[0]])
            c1 = closed_runs()
            # One more cycle after the change: still logged once.
            n0 = len([x for x in self.report("members")
                      if x["kind"] == "summary"])
            self.wait("members", lambda ls: len(
                [x for x in ls if x["kind"] == "summary"]) >= n0 + 3,
                daemon, timeout=90)
            err = daemon.stderr()
            self.assertEqual(err.count("account %s is new" % added), 1, err)
            self.assertEqual(err.count("account %s is no longer listed"
                                       % first[0]), 1, err)
            self.assertNotIn("account %s is new" % first[1], err)
            # The closed member is not tested any more.
            self.assertGreaterEqual(c1, 1)
            self.assertEqual(closed_runs(), c1)

    def test_check_prints_share(self):
        ids = ["210987654321", "345678901234", "456789012345",
               "567890123456"]
        accts = ",\n".join(
            '{ name = "a%d"; role_arn = "arn:aws:iam::%s:role/r"; }' % (n, i)
            for n, i in enumerate(ids))
        path = os.path.join(self.dir, "check.conf")
        with open(path, "w") as f:
            f.write('daemon = { state_dir = "%s"; shard = "2/3"; };\n'
                    'accounts = ( %s, { name = "plain"; } );\n'
                    % (self.dir, accts))
        p = cloudsagad("-n", "-c", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("configuration OK", p.stdout)
        for n, i in enumerate(ids):
            word = "taken" if shard_of(i, 3) == 2 else "another shard's"
            self.assertIn("a%d (%s): %s" % (n, i, word), p.stdout)
        self.assertIn("plain (ID unknown): another shard's", p.stdout)
        self.assertIn("no role_arn", p.stderr)
        # Bad shards are refused with the line.
        for bad in ("0/2", "3/2", "1/0", "x", "1/2/3", "1/5000"):
            with open(path, "w") as f:
                f.write('daemon = { state_dir = "%s"; shard = "%s"; };\n'
                        % (self.dir, bad))
            p = cloudsagad("-n", "-c", path)
            self.assertEqual(p.returncode, 1, bad)
            self.assertIn(":1: daemon.shard", p.stderr)

    def test_iam_policy_lists_and_assumes(self):
        """--iam-policy: the listing account may list the organisation and
        assume the members' role; no organisation, no such statements."""
        path = os.path.join(self.dir, "iam.conf")
        body = ('accounts = ( { name = "org"; organization = { '
                'role_name = "audit/cloudsaga"; }; } );\n'
                'schedule = ( { name = "nc"; scenario = "network-changes"; '
                'accounts = [ "org" ]; every = "1h"; } );\n')
        with open(path, "w") as f:
            f.write(body)
        p = cloudsagad("--iam-policy", "-c", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = {s["Sid"]: s for s in json.loads(p.stdout)["Statement"]}
        self.assertEqual(st["OrganizationDiscovery"]["Action"],
                         ["organizations:ListAccounts"])
        self.assertEqual(st["OrganizationMembers"]["Action"],
                         ["sts:AssumeRole"])
        self.assertEqual(st["OrganizationMembers"]["Resource"],
                         ["arn:aws:iam::*:role/audit/cloudsaga"])
        with open(path, "w") as f:
            f.write(body.replace('organization = { role_name = '
                                 '"audit/cloudsaga"; }; ', ''))
        p = cloudsagad("--iam-policy", "-c", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        sids = {s["Sid"] for s in json.loads(p.stdout)["Statement"]}
        self.assertNotIn("OrganizationDiscovery", sids)


if __name__ == "__main__":
    unittest.main(verbosity=2)
