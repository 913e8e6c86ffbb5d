"""GuardDuty ListFindings/GetFindings answered from findings seeded through
POST /_sandbox/findings."""

import json

import harness
from harness import SandboxTestCase


class GuardDutyTest(SandboxTestCase):

    def setUp(self):
        self.sandbox.reset()

    def seed(self, findings, region="us-east-1", **extra):
        body = dict(region=region, findings=findings, **extra)
        return self.sandbox.admin("POST", "/_sandbox/findings", body)

    def test_seed_creates_detector_and_cli_lists(self):
        res = self.seed([{"type": "Recon:IAMUser/MaliciousIPCaller", "severity": 5},
                         {"type": "PenTest:IAMUser/KaliLinux", "severity": 8.0}])
        det = res["detectorId"]
        self.assertEqual(len(res["findingIds"]), 2)
        gd = self.sandbox.client("guardduty")
        self.assertEqual(gd.list_detectors()["DetectorIds"], [det])
        r = self.sandbox.aws("guardduty", "list-findings", "--detector-id", det,
                             "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(json.loads(r.stdout)["FindingIds"]), sorted(res["findingIds"]))
        r = self.sandbox.aws("guardduty", "get-findings", "--detector-id", det,
                             "--finding-ids", res["findingIds"][1], "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        f = json.loads(r.stdout)["Findings"][0]
        self.assertEqual(f["Type"], "PenTest:IAMUser/KaliLinux")
        self.assertEqual(f["Severity"], 8.0)
        self.assertEqual(f["AccountId"], "123456789012")
        self.assertEqual(f["Region"], "us-east-1")
        self.assertEqual(f["Service"]["DetectorId"], det)
        self.assertIn("AwsApiCallAction", f["Service"]["Action"])
        self.assertTrue(f["Arn"].endswith("/finding/" + f["Id"]))

    def test_criteria_sort_and_pages(self):
        res = self.seed([{"type": "Recon:IAMUser/MaliciousIPCaller", "severity": s,
                          "service": {"archived": s > 6}} for s in (2, 4, 6, 8, 9)])
        det = res["detectorId"]
        gd = self.sandbox.client("guardduty")
        ids = gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {
            "severity": {"GreaterThanOrEqual": 6}}})["FindingIds"]
        self.assertEqual(len(ids), 3)
        ids = gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {
            "service.archived": {"Eq": ["false"]}}})["FindingIds"]
        self.assertEqual(len(ids), 3)
        ids = gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {
            "type": {"Eq": ["PenTest:IAMUser/KaliLinux"]}}})["FindingIds"]
        self.assertEqual(ids, [])
        ordered = gd.list_findings(DetectorId=det, SortCriteria={
            "AttributeName": "severity", "OrderBy": "DESC"})["FindingIds"]
        sev = {f["Id"]: f["Severity"] for f in
               gd.get_findings(DetectorId=det, FindingIds=ordered)["Findings"]}
        self.assertEqual([sev[i] for i in ordered], [9, 8, 6, 4, 2])
        pages = list(gd.get_paginator("list_findings").paginate(
            DetectorId=det, PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["FindingIds"]) for p in pages], [2, 2, 1])
        self.assertEqual(sorted(i for p in pages for i in p["FindingIds"]),
                         sorted(res["findingIds"]))

    def test_scoped_by_region_and_unknown_detector(self):
        res = self.seed([{"type": "Stealth:IAMUser/CloudTrailLoggingDisabled"}],
                        region="eu-west-1")
        gd_eu = self.sandbox.client("guardduty", region="eu-west-1")
        gd_us = self.sandbox.client("guardduty", region="us-east-1")
        self.assertEqual(len(gd_eu.list_findings(DetectorId=res["detectorId"])["FindingIds"]), 1)
        for call in (lambda: gd_us.list_findings(DetectorId=res["detectorId"]),
                     lambda: gd_us.get_findings(DetectorId=res["detectorId"],
                                                FindingIds=res["findingIds"]),
                     lambda: gd_us.delete_detector(DetectorId="f" * 32)):
            with self.assertRaises(gd_us.exceptions.BadRequestException):
                call()
        # Seeding into an existing detector adds to it.
        again = self.seed([{"type": "Recon:IAMUser/TorIPCaller"}], region="eu-west-1",
                          detectorId=res["detectorId"])
        self.assertEqual(again["detectorId"], res["detectorId"])
        self.assertEqual(len(gd_eu.list_findings(DetectorId=res["detectorId"])["FindingIds"]), 2)
        listed = self.sandbox.admin("GET", "/_sandbox/findings")["detectors"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(len(listed[0]["findings"]), 2)
        recs = self.sandbox.events(eventName="ListFindings", region="eu-west-1")
        self.assertEqual(len(recs), 2)
        self.assertEqual(recs[0]["record"]["eventSource"], "guardduty.amazonaws.com")

    def test_bad_seed_and_requests(self):
        self.sandbox.admin("POST", "/_sandbox/findings", {"findings": "nope"}, expect=400)
        self.sandbox.admin("POST", "/_sandbox/findings", {"findings": [],
                                                          "detectorId": "0" * 32}, expect=400)
        self.sandbox.admin("POST", "/_sandbox/findings", b"{not json", expect=400)
        det = self.seed([{}])["detectorId"]
        gd = self.sandbox.client("guardduty", parameter_validation=False)
        with self.assertRaises(gd.exceptions.BadRequestException):
            gd.list_findings(DetectorId=det, MaxResults=99)
        with self.assertRaises(gd.exceptions.BadRequestException):
            gd.get_findings(DetectorId=det, FindingIds=[])
        resp, body = self.sandbox.raw(
            "guardduty", json.dumps({"findingCriteria": {"criterion": {
                "severity": {"bogus": 1}}}}), path="/detector/%s/findings" % det,
            ctype="application/json")
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.getheader("X-Amzn-ErrorType"), "BadRequestException")
        self.assertIn("bogus", json.loads(body)["message"])
        self.assertEqual(gd.get_findings(DetectorId=det, FindingIds=["nope"])["Findings"], [])

    def test_reset_clears_findings(self):
        det = self.seed([{}])["detectorId"]
        self.sandbox.reset()
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/findings")["detectors"], [])
        gd = self.sandbox.client("guardduty")
        with self.assertRaises(gd.exceptions.BadRequestException):
            gd.list_findings(DetectorId=det)


if __name__ == "__main__":
    harness.main()
