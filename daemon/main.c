/*
 * cloudsagad: continuous detection-regression testing of AWS accounts.
 *
 * main: parse the command line and hand over to the one-shot commands
 * (cli_*.c) or the daemon loop.  Everything else lives in libcloudsaga.
 */
#include <sys/prctl.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_attack.h"
#include "cli_iam.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

enum {
	OPT_CALL = 256,
	OPT_REGION,
	OPT_PARAM,
	OPT_LIVE,
	OPT_ENDPOINT_URL,
	OPT_PROFILE,
	OPT_VERSION,
	OPT_PRINT_CONFIG,
	OPT_CHAPTERS,
	OPT_ABOUT,
	OPT_SCENARIO,
	OPT_REGIONS,
	OPT_ACCOUNT,
	OPT_VERIFY_TIMEOUT,
	OPT_VERIFY_INTERVAL,
	OPT_NO_VERIFY,
	OPT_OUTPUT,
	OPT_IAM_POLICY,
	OPT_ATTACK_LAYER,
	OPT_REPORT,
	OPT_SINCE,
	OPT_JSON,
};

static const struct option longopts[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "check",		no_argument,		NULL, 'n' },
	{ "foreground",		no_argument,		NULL, 'd' },
	{ "print-config",	no_argument,		NULL, OPT_PRINT_CONFIG },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "call",		required_argument,	NULL, OPT_CALL },
	{ "region",		required_argument,	NULL, OPT_REGION },
	{ "param",		required_argument,	NULL, OPT_PARAM },
	{ "live",		no_argument,		NULL, OPT_LIVE },
	{ "endpoint-url",	required_argument,	NULL, OPT_ENDPOINT_URL },
	{ "profile",		required_argument,	NULL, OPT_PROFILE },
	{ "chapters",		no_argument,		NULL, OPT_CHAPTERS },
	{ "about",		required_argument,	NULL, OPT_ABOUT },
	{ "scenario",		required_argument,	NULL, OPT_SCENARIO },
	{ "regions",		required_argument,	NULL, OPT_REGIONS },
	{ "account",		required_argument,	NULL, OPT_ACCOUNT },
	{ "verify-timeout",	required_argument,	NULL, OPT_VERIFY_TIMEOUT },
	{ "verify-interval",	required_argument,	NULL, OPT_VERIFY_INTERVAL },
	{ "no-verify",		no_argument,		NULL, OPT_NO_VERIFY },
	{ "output",		required_argument,	NULL, OPT_OUTPUT },
	{ "iam-policy",		optional_argument,	NULL, OPT_IAM_POLICY },
	{ "attack-layer",	no_argument,		NULL, OPT_ATTACK_LAYER },
	{ "report",		required_argument,	NULL, OPT_REPORT },
	{ "since",		required_argument,	NULL, OPT_SINCE },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(void)
{
	printf(
"usage: cloudsagad [-dnv] [-c file] [--print-config]\n"
"       cloudsagad --call service:Action [--region r] [--param Key=Value]...\n"
"                  [--endpoint-url url] [--profile name] [--live]\n"
"       cloudsagad --chapters | --about NAME\n"
"       cloudsagad --scenario NAME [--regions r1,r2] [--account NAME]\n"
"                  [--verify-timeout DUR] [--verify-interval DUR]\n"
"                  [--no-verify] [--output text|json] [-c file]\n"
"                  [--endpoint-url url] [--profile name] [--live]\n"
"       cloudsagad --iam-policy[=permissions|trust] [-c file]\n"
"                  [--account NAME] [--endpoint-url url] [--profile name]\n"
"       cloudsagad --attack-layer [--report FILE] [--since DUR] [-c file]\n"
"       cloudsagad status [--json] [-c file]\n"
"       cloudsagad --version | -h | --help\n"
"\n"
"  status              what the daemon did, from its state database (read-only,\n"
"                      safe while it runs): per schedule entry the last run and\n"
"                      the next, pending expectations, the last gaps; exit 0\n"
"                      when every entry's last run is clean, 1 otherwise, 3\n"
"                      without state\n"
"  --json              status as one JSON document\n"
"  -c, --config FILE   configuration file (default %s/cloudsagad/cloudsagad.conf,\n"
"                      under systemd $CONFIGURATION_DIRECTORY/cloudsagad.conf)\n"
"  -d, --foreground    log to stderr, each line with a UTC timestamp\n"
"                      (debugging on a terminal); the daemon never forks,\n"
"                      with or without -d\n"
"  -n, --check         check the configuration and exit\n"
"  --print-config      print the effective configuration and exit\n"
"  -v, --verbose       more logging: the daemon logs at debug; one-shot\n"
"                      commands at info, with -vv at debug\n"
"  --call SVC:Action   send one signed call and print the result as JSON;\n"
"                      mutating EC2 calls need --param DryRun=true\n"
"  --region R          the region of --call\n"
"  --param Key=Value   a parameter of --call (repeatable)\n"
"  --live              allow calls that change the account (never a mutating\n"
"                      EC2 call without DryRun): --call, and live steps of\n"
"                      --scenario\n"
"  --endpoint-url URL  send every call there (beats AWS_ENDPOINT_URL*)\n"
"  --profile NAME      profile of the shared credentials/config files\n"
"  --chapters          list every scenario by ATT&CK tactic: name, technique\n"
"                      IDs, summary; then the Stratus techniques with no safe\n"
"                      form\n"
"  --about NAME        what a scenario does: its calls (safety, signal or\n"
"                      context, evidence), permissions, ATT&CK; for a Stratus\n"
"                      technique with no safe form, why\n"
"  --scenario NAME     run a scenario once in the foreground, print every\n"
"                      call, then wait for each one in CloudTrail;\n"
"                      --regions limits it (names or eu-*); exit 0 when\n"
"                      nothing is missing, 1 on a logging gap or a failed\n"
"                      call, 4 when every call went as intended and\n"
"                      something could not be verified (2: usage, e.g. a\n"
"                      region name that is no region); ends at once when\n"
"                      nothing can be verified (no expectation, lookups\n"
"                      refused for the credentials)\n"
"  --account NAME      the account of --scenario or --iam-policy=trust\n"
"  --verify-timeout D  how long after each call to look for it (deadline)\n"
"  --verify-interval D how often to poll LookupEvents (the first poll one\n"
"                      interval after the last call)\n"
"  --no-verify         only fire the calls\n"
"  --output json       one JSON object per line on stdout: every call, every\n"
"                      verdict, then the run summary\n"
"  --iam-policy        print the least-privilege IAM policy (JSON) for the\n"
"                      scenarios the -c file schedules (without -c or a\n"
"                      schedule: every scenario), verification and alert\n"
"                      coverage; =trust: the trust policies of the accounts'\n"
"                      roles (asks sts:GetCallerIdentity who the daemon is)\n"
"  --attack-layer      print a MITRE ATT&CK Navigator layer (JSON, layer\n"
"                      format 4.5): each technique of the scenarios scored\n"
"                      from the report's verdicts, worst first: 1 logging\n"
"                      gap, 2 could not test, 3 logged but no alert, 3.5\n"
"                      alerting not checked, 4 alerted\n"
"  --report FILE       the JSON-lines report of --attack-layer (default: the\n"
"                      daemon.report_file of the configuration; - = stdin)\n"
"  --since DUR         the window of --attack-layer: the report's last DUR\n"
"                      (default 7d)\n"
"  --version           print the version and exit\n"
"  -h, --help          print this help and exit\n",
	    CLOUDSAGA_SYSCONFDIR);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* A command-line mistake: one line, exit 2 (the help is --help). */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fputs("cloudsagad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see cloudsagad --help\n", stderr);
	exit(CLI_EXIT_USAGE);
}

/* The option getopt_long() stopped at: "--name" or "-c". */
static void __attribute__((noreturn))
usage_bad_option(int ch, char *const argv[])
{
	const char	*arg = argv[optind - 1];
	int		 n;

	if (strncmp(arg, "--", 2) == 0) {
		n = (int)strcspn(arg, "=");
		if (ch == ':')
			usage_error("option %.*s needs an argument", n, arg);
		if (optopt != 0)
			usage_error("option %.*s takes no argument", n, arg);
		usage_error("unknown option %.*s", n, arg);
	}
	if (ch == ':')
		usage_error("option -%c needs an argument", optopt);
	usage_error("unknown option -%c", optopt);
}

int
main(int argc, char *argv[])
{
	struct cli_opts	 o;
	double		 dur;
	int		 ch, check = 0, foreground = 0, print_config = 0;

	memset(&o, 0, sizeof(o));
	o.config_file = CLOUDSAGA_SYSCONFDIR "/cloudsagad/cloudsagad.conf";

	opterr = 0;	/* our own one-line messages */
	while ((ch = getopt_long(argc, argv, ":c:dnvh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config_file = optarg;
			o.config_given = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			foreground = 1;
			break;
		case OPT_PRINT_CONFIG:
			print_config = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			usage();
		case OPT_VERSION:
			printf("cloudsagad %s\n", CLOUDSAGA_VERSION);
			return 0;
		case OPT_CALL:
			o.call = optarg;
			break;
		case OPT_REGION:
			o.region = optarg;
			break;
		case OPT_PARAM:
			o.params = xreallocarray(o.params, o.nparams + 1,
			    sizeof(*o.params));
			o.params[o.nparams++] = optarg;
			break;
		case OPT_LIVE:
			o.allow_live = 1;
			break;
		case OPT_ENDPOINT_URL:
			o.endpoint_url = optarg;
			break;
		case OPT_PROFILE:
			o.profile = optarg;
			break;
		case OPT_CHAPTERS:
			o.chapters = 1;
			break;
		case OPT_ABOUT:
			o.about = optarg;
			break;
		case OPT_SCENARIO:
			o.scenario = optarg;
			break;
		case OPT_REGIONS:
			o.regions = optarg;
			break;
		case OPT_ACCOUNT:
			o.account = optarg;
			break;
		case OPT_VERIFY_TIMEOUT:
		case OPT_VERIFY_INTERVAL:
			if (duration_parse(optarg, &dur) == -1 || dur <= 0) {
				fprintf(stderr, "cloudsagad: --%s: bad duration "
				    "\"%s\" (e.g. 90s, 15m)\n", ch ==
				    OPT_VERIFY_TIMEOUT ? "verify-timeout" :
				    "verify-interval", optarg);
				return CLI_EXIT_USAGE;
			}
			if (ch == OPT_VERIFY_TIMEOUT)
				o.verify_timeout = dur;
			else
				o.verify_interval = dur;
			break;
		case OPT_NO_VERIFY:
			o.no_verify = 1;
			break;
		case OPT_IAM_POLICY:
			if (optarg != NULL && strcmp(optarg, "permissions") != 0 &&
			    strcmp(optarg, "trust") != 0)
				usage_error("--iam-policy=%s: permissions or "
				    "trust", optarg);
			o.iam = 1;
			o.iam_policy = optarg;
			break;
		case OPT_ATTACK_LAYER:
			o.attack_layer = 1;
			break;
		case OPT_REPORT:
			o.report = optarg;
			break;
		case OPT_SINCE:
			if (duration_parse(optarg, &o.since) == -1 ||
			    o.since <= 0)
				usage_error("--since: bad duration \"%s\" (e.g. "
				    "7d, 12h)", optarg);
			break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") == 0)
				o.output_json = 1;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "cloudsagad: --output: \"%s\": "
				    "text or json\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			o.output_json = 1;
			o.json = 1;
			break;
		default:
			usage_bad_option(ch, argv);
		}
	}
	if (optind < argc && strcmp(argv[optind], "status") == 0) {
		o.status = 1;
		optind++;
	}
	if (optind != argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o.json && !o.status)
		usage_error("--json goes with status (--scenario has --output "
		    "json)");
	if (o.status) {
		log_init(LOG_TO_STDERR, "cloudsagad", LOG_NOTICE);
		free(o.params);
		return cli_status(&o);
	}

	log_init(LOG_TO_STDERR, "cloudsagad",
	    o.verbose > 1 ? LOG_DEBUG : o.verbose ? LOG_INFO : LOG_NOTICE);

	if ((o.report != NULL || o.since > 0) && !o.attack_layer)
		usage_error("--report and --since go with --attack-layer");
	if (o.attack_layer) {
		free(o.params);
		return cli_attack_layer(&o);
	}
	if (o.iam) {
		int	 rc = cli_iam_policy(&o);

		free(o.params);
		return rc;
	}
	if (o.call != NULL) {
		int	 rc = cli_call(&o);

		free(o.params);
		return rc;
	}
	/* Scenario commands: with -c, the config's custom scenarios too. */
	if (o.chapters || o.about != NULL || o.scenario != NULL) {
		struct config	*cfg = NULL;
		char		*cause = NULL;
		int		 rc;

		if (o.config_given && (o.chapters || o.about != NULL) &&
		    config_load(o.config_file, &cfg, &cause) == -1) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			free(o.params);
			return CLI_EXIT_USAGE;
		}
		if (o.chapters)
			rc = cli_chapters(&o, cfg ? cfg->custom_list : NULL);
		else if (o.about != NULL)
			rc = cli_about(&o, cfg ? cfg->custom_list : NULL);
		else
			rc = cli_scenario(&o, NULL);
		config_free(cfg);
		free(o.params);
		return rc;
	}
	free(o.params);
	if (check || print_config)
		return daemon_check_config(o.config_given ? o.config_file :
		    NULL, print_config);
	/*
	 * The daemon holds credentials for months: no core dump of it, and no
	 * other process of its user may read its memory (ptrace,
	 * /proc/PID/mem).  Before anything loads credentials.  Not for the
	 * one-shot commands: a person runs them with their own credentials,
	 * and may want a core dump or a debugger (a debugger that starts the
	 * daemon itself keeps working: the setting does not detach it).
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	return daemon_main(&(struct daemon_opts){
	    .config_file = o.config_given ? o.config_file : NULL,
	    .foreground = foreground, .verbose = o.verbose });
}
