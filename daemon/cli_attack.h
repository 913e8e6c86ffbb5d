/*
 * cli_attack: `cloudsagad --attack-layer [--report FILE] [--since DUR]
 * [-c FILE]`, the detection coverage of a JSON-lines report as a MITRE
 * ATT&CK Navigator layer (layer format 4.5, domain enterprise-attack) on
 * standard output.
 *
 * One technique entry per ATT&CK technique (or sub-technique) that the
 * registry's scenarios and the configuration's custom scenarios name in
 * their `mitre` strings; techniques named nowhere are not listed.  Each
 * entry's score and colour come from the verdicts of every scenario mapped
 * to it, in every run, account and region, over the last DUR of the
 * report (by each line's "time"; the window ends at the newest verdict,
 * summary or could-not-test line), worst first:
 *
 *   1    red     logging gap: some verdict is "missing"
 *   2    grey    could not test: a could-not-test line, a summary with
 *                could_not_test or halted, no logged attack call (only
 *                unverified verdicts, or only context calls), or no run
 *   3    orange  logged, no alert: some logged attack call "uncovered"
 *   3.5  yellow  logged, alerting not checked (coverage absent/"unknown")
 *   4    green   alerted: every logged attack call "covered"
 *
 * "Attack calls" are the verdict lines with "role":"signal" and the lines
 * without a role; "role":"context" lines count for logging, not alerting.
 *
 * A technique is tied to one tactic when its registry string names a
 * tactic ID ("T1562.008 TA0005 Impair Defenses: ...", or "(TA0005)"
 * anywhere after the ID): cli_attack_tactic() maps it to the Navigator's
 * tactic shortname; without one the entry has no "tactic" and the
 * Navigator shows it under every tactic of the technique.
 *
 * The report is streamed twice (once for the window, once to count), line
 * by line; memory is bounded by the number of techniques and scenarios,
 * not lines.  A pipe or "-" (standard input) is first copied to an
 * unlinked temporary file.
 */
#ifndef CLOUDSAGA_CLI_ATTACK_H
#define CLOUDSAGA_CLI_ATTACK_H

struct cli_opts;

/* --since default: a week. */
#define CLI_ATTACK_SINCE_DEFAULT	(7 * 86400.0)

/*
 * Print the layer.  Returns CLI_EXIT_OK, CLI_EXIT_FAIL when the report
 * cannot be read (or stdout not written), CLI_EXIT_USAGE for a
 * configuration with errors.
 */
int		 cli_attack_layer(const struct cli_opts *);

/*
 * The Navigator's shortname ("defense-evasion") of the first
 * enterprise tactic ID ("TA0005") that appears as a word in a registry
 * mitre string after its technique ID; NULL when there is none.
 */
const char	*cli_attack_tactic(const char *mitre);

#endif
