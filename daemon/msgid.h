/*
 * msgid: the journal MESSAGE_IDs of cloudsagad, one per message kind.
 *
 * Generated once with `systemd-id128 new`; never change one (people filter
 * on them: journalctl MESSAGE_ID=...).  Each is explained, with what to do
 * about it, in systemd/cloudsagad.catalog (journalctl -x shows the text);
 * tests/unit/test_report.c checks that the two lists agree.
 */
#ifndef CLOUDSAGA_MSGID_H
#define CLOUDSAGA_MSGID_H

/* Verdicts of the logging check (daemon/verify). */
#define MSGID_LOGGED		"121fd4057c964ff68b7a8f51d7e25376"
#define MSGID_MISSING		"9997f1a77c534c2d99ffbad67e9dfeee" /* logging gap */
#define MSGID_UNVERIFIED	"b628b917cbc44c9cb97a3ae9251c73d1"
/* Not found, but that CloudTrail records the call is only assumed
 * (evidence "assumed", #11): unverified at notice, never a logging gap. */
#define MSGID_UNCONFIRMED	"761fa1c041f741019dbec471dd2f0cfa"
/* History (daemon/history): a logging gap where the same event was logged
 * within the regression window; an alert gap where a rule alerted; the
 * daily list of chronic gaps. */
#define MSGID_REGRESSION	"321ea0d8a642412ba78254431c63a0b9"
#define MSGID_ALERT_REGRESSION	"b24d40cd56344a1fa3c989a36b699e70"
#define MSGID_CHRONIC_DIGEST	"442827faace94ffdbd7b3eb7c9a911e7"
/* One per run, once every verdict of the run is reported. */
#define MSGID_RUN_SUMMARY	"6c4b6d07ef144b20ac538296a8cf3833"
/* Verdicts of the alerting check (daemon/coverage, issue 6). */
#define MSGID_UNCOVERED		"3f9a4d952275426e9ae1f114f1288c50" /* alert gap */
#define MSGID_COVERED		"b91e03a6394f4a1f80fa7540826dd4d2"
#define MSGID_COVERAGE_UNKNOWN	"17292e97e5cf45dfbc0e9cb129085693"
/* GuardDuty after a run (information, never a gap). */
#define MSGID_GUARDDUTY_FINDING	"f1117afdfa244a8eaf849a8ceb67e78f"
#define MSGID_GUARDDUTY_SUMMARY	"65e7190b4c764654a320b4303838d7d8"
/* A DryRun call answered 2xx: the run is halted. */
#define MSGID_SAFETY		"4378ec0255af4417b5fb3a4f0a4e0f45"
/* A state file could not be read and was set aside. */
#define MSGID_STATE_CORRUPT	"14eb6d2df4e6450cb5043adb460707cd"
/* LookupEvents keeps failing for an account and region. */
#define MSGID_LOOKUP_FAILING	"c891d895891d4bd08aa07b940d8619d6"
/* A run's calls failed: the detection test could not run (in full or in
 * part). */
#define MSGID_COULD_NOT_TEST	"382821c816d44cdca671c98ae9c73693"
/* A posture finding of a scenario (IMDSv1 allowed, public database). */
#define MSGID_POSTURE		"3bfd468e2f4f43218fd06fd982fcca23"

#endif
