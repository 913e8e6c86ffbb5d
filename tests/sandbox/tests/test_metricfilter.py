"""logs:TestMetricFilter: CloudWatch Logs filter patterns (JSON, including the
CIS alarm patterns, space-delimited and terms), and the API over the wire."""

import json
import unittest

import harness
from harness import SandboxTestCase

from awssandbox.metricfilter import FilterError, test_metric_filter as tmf


def ev(**kw):
    base = {"eventVersion": "1.08", "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "userName": "dave"},
            "eventType": "AwsApiCall", "sourceIPAddress": "10.0.0.5"}
    base.update(kw)
    return json.dumps(base)


def hits(pattern, *messages):
    return [m["eventNumber"] for m in tmf(pattern, list(messages))]


CIS_UNAUTHORIZED = ('{ ($.errorCode = "*UnauthorizedOperation") || '
                    '($.errorCode = "AccessDenied*") }')
CIS_ROOT = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }')
CIS_CLOUDTRAIL = ('{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || '
                  '($.eventName = DeleteTrail) || ($.eventName = StartLogging) || '
                  '($.eventName = StopLogging) }')
CIS_SG = ('{ ($.eventName = AuthorizeSecurityGroupIngress) || '
          '($.eventName = AuthorizeSecurityGroupEgress) || '
          '($.eventName = RevokeSecurityGroupIngress) || ($.eventName = CreateSecurityGroup) '
          '|| ($.eventName = DeleteSecurityGroup) }')
CIS_CONSOLE_MFA = ('{ ($.eventName = "ConsoleLogin") && '
                   '($.additionalEventData.MFAUsed != "Yes") }')


class FilterPatternTest(unittest.TestCase):

    def test_issue_example(self):
        p = '{ ($.eventName = X) || ($.errorCode = "Y*") }'
        self.assertEqual(hits(p, ev(eventName="X"), ev(errorCode="Yes"), ev(errorCode="No"),
                              ev(eventName="x")), [1, 2])

    def test_cis_patterns(self):
        self.assertEqual(hits(CIS_UNAUTHORIZED,
                              ev(errorCode="Client.UnauthorizedOperation"),
                              ev(errorCode="AccessDenied"),
                              ev(errorCode="AccessDeniedException"),
                              ev(errorCode="Client.DryRunOperation"),
                              ev()), [1, 2, 3])
        self.assertEqual(hits(CIS_ROOT,
                              ev(userIdentity={"type": "Root"}),
                              ev(userIdentity={"type": "Root", "invokedBy": "s3.amazonaws.com"}),
                              ev(userIdentity={"type": "Root"}, eventType="AwsServiceEvent"),
                              ev()), [1])
        self.assertEqual(hits(CIS_CLOUDTRAIL, ev(eventName="StopLogging"),
                              ev(eventName="DeleteTrail"), ev(eventName="DescribeTrails")),
                         [1, 2])
        self.assertEqual(hits(CIS_SG, ev(eventName="CreateSecurityGroup"),
                              ev(eventName="DescribeSecurityGroups")), [1])
        self.assertEqual(hits(CIS_CONSOLE_MFA,
                              ev(eventName="ConsoleLogin", additionalEventData={"MFAUsed": "No"}),
                              ev(eventName="ConsoleLogin", additionalEventData={"MFAUsed": "Yes"}),
                              ev(eventName="ConsoleLogin")), [1])

    def test_operators(self):
        doc = json.dumps({"latency": 51, "ok": True, "gone": None, "name": "web-1",
                          "arr": [{"v": 1}, {"v": 2}], "tags": ["a", "b"], "ip": "123.123.9.9"})
        self.assertEqual(hits("{ $.latency > 50 }", doc), [1])
        self.assertEqual(hits("{ $.latency >= 52 }", doc), [])
        self.assertEqual(hits("{ $.latency = 51 }", doc), [1])
        self.assertEqual(hits("{ $.latency != 51 }", doc), [])
        self.assertEqual(hits("{ $.ok IS TRUE }", doc), [1])
        self.assertEqual(hits("{ $.ok IS FALSE }", doc), [])
        self.assertEqual(hits("{ $.gone IS NULL }", doc), [1])
        self.assertEqual(hits("{ $.nothing NOT EXISTS }", doc), [1])
        self.assertEqual(hits("{ $.name NOT EXISTS }", doc), [])
        self.assertEqual(hits("{ $.name EXISTS }", doc), [1])
        self.assertEqual(hits("{ $.name = web-* }", doc), [1])
        self.assertEqual(hits('{ $.name = "web-2" }', doc), [])
        self.assertEqual(hits("{ $.arr[1].v = 2 }", doc), [1])
        self.assertEqual(hits("{ $.arr[0].v = 2 }", doc), [])
        self.assertEqual(hits("{ $.tags = b }", doc), [1])
        self.assertEqual(hits("{ $.ip != 123.123.* }", doc), [])
        self.assertEqual(hits("{ $.name = %^web-[0-9]$% }", doc), [1])
        self.assertEqual(hits("{ $.missing != x }", doc), [], "missing property never matches !=")
        self.assertEqual(hits("{ ($.latency > 10 && $.ok IS TRUE) || $.name = zzz }", doc), [1])
        self.assertEqual(hits("{ $.latency > 10 && ($.ok IS FALSE || $.name = zzz) }", doc), [])
        self.assertEqual(hits("{ $.a = 1 }", "not json at all"), [])

    def test_terms_and_delimited(self):
        lines = ["ERROR disk full", "WARN almost full", "INFO fine", 'ERROR "quoted thing" DEBUG']
        self.assertEqual(hits("", *lines), [1, 2, 3, 4])
        self.assertEqual(hits("ERROR", *lines), [1, 4])
        self.assertEqual(hits("ERROR full", *lines), [1])
        self.assertEqual(hits("?ERROR ?WARN", *lines), [1, 2, 4])
        self.assertEqual(hits("ERROR -DEBUG", *lines), [1])
        self.assertEqual(hits('"quoted thing"', *lines), [4])
        log = ['127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
               '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 99']
        res = tmf("[ip, user, username, timestamp, request, status_code = 4*, bytes]", log)
        self.assertEqual([m["eventNumber"] for m in res], [1])
        self.assertEqual(res[0]["extractedValues"]["$status_code"], "404")
        self.assertEqual(res[0]["extractedValues"]["$ip"], "127.0.0.1")
        self.assertEqual(hits("[..., status_code = 200, bytes < 100]", *log), [2])
        self.assertEqual(hits("[ip, ..., bytes > 1000]", *log), [1])
        self.assertEqual(hits("[a, b]", *log), [])

    def test_invalid(self):
        for bad in ("{ $.a = }", "{ eventName = X }", "{ $.a > abc }", "{ ($.a = 1 }",
                    "{ $.a IS MAYBE }", "{ }", "[a, b = ]", "{ $.a = 1 } extra"):
            with self.assertRaises(FilterError, msg=bad):
                tmf(bad, ["{}"])


class TestMetricFilterApiTest(SandboxTestCase):

    def test_cli(self):
        r = self.sandbox.aws("logs", "test-metric-filter", "--filter-pattern", CIS_UNAUTHORIZED,
                             "--log-event-messages",
                             ev(errorCode="Client.UnauthorizedOperation"), ev(),
                             ev(errorCode="AccessDenied"), "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [1, 3])
        self.assertEqual(out["matches"][0]["eventMessage"],
                         ev(errorCode="Client.UnauthorizedOperation"))
        r = self.sandbox.aws("logs", "test-metric-filter", "--filter-pattern", "{ $.a = }",
                             "--log-event-messages", "{}")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(InvalidParameterException)", r.stderr)

    def test_boto3(self):
        logs = self.sandbox.client("logs")
        out = logs.test_metric_filter(filterPattern=CIS_ROOT, logEventMessages=[
            ev(userIdentity={"type": "Root"}), ev()])
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [1])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/stats")["test_metric_filter"], 1)
        # A metric filter stored in moto keeps its pattern for the daemon to test.
        logs.create_log_group(logGroupName="ct")
        logs.put_metric_filter(logGroupName="ct", filterName="unauth",
                               filterPattern=CIS_UNAUTHORIZED, metricTransformations=[
                                   {"metricName": "m", "metricNamespace": "n",
                                    "metricValue": "1"}])
        stored = logs.describe_metric_filters(logGroupName="ct")["metricFilters"][0]
        self.assertEqual(stored["filterPattern"], CIS_UNAUTHORIZED)


if __name__ == "__main__":
    harness.main()
