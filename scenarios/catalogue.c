/*
 * catalogue: the Stratus Red Team AWS techniques that have a safe form,
 * as technique tables (#11; the engine is technique.c).
 *
 * Facts: /work/shared/research/stratus-safe-catalogue.md (Stratus at
 * 7c9a7a5a63dc: calls, ATT&CK IDs, the safe form, eventSource/eventName,
 * region, evidence).  Evidence levels and source keys as there:
 *   documented  an AWS document says the call is recorded (CT-rec: errors
 *               carry errorCode; SES-ct; BR-ct; CT-glob)
 *   observed    seen in real records (EC2-dry, IAM-err, L-ev, Stratus's
 *               sample events and detections)
 *   assumed     no source says the failing form is recorded (S3 calls on
 *               a bucket that does not exist, SES GetAccountSendingEnabled,
 *               Route 53 Resolver, SageMaker, Bedrock, Instance Connect,
 *               SSM StartSession): docs/CATALOGUE.md gives the
 *               lookup-events command that confirms each
 * Every safe-fail call here is in common/safety.c's table with its
 * reference parameter; the guard checks each one when it is sent.
 *
 * Scope: EC2 techniques run in every enabled region (their targets are
 * regional and collected per region); services that are not in every
 * region (SES, SageMaker, Bedrock, Instance Connect) and the account-wide
 * calls run in the home region; IAM goes to the global endpoint.
 */
#include <stddef.h>
#include <string.h>

#include "aws.h"
#include "technique.h"

#define DOC	AWS_EVIDENCE_DOCUMENTED
#define OBS	AWS_EVIDENCE_OBSERVED
#define ASSUMED	AWS_EVIDENCE_ASSUMED
#define SIGNAL	AWS_ROLE_SIGNAL
#define CONTEXT	AWS_ROLE_CONTEXT
#define END	{ .id = NULL }

/* An account AWS documents as an example: the target of share calls. */
#define EXAMPLE_ACCOUNT	"111122223333"

/* Instances that are not terminated, a few: targets for DryRun calls. */
#define STEP_INSTANCES {						\
	.id = "inst", .service = "ec2", .action = "DescribeInstances",	\
	.params = "{\"MaxResults\": 5, \"Filter\": [{\"Name\": "	\
	    "\"instance-state-name\", \"Value\": [\"pending\", "	\
	    "\"running\", \"stopping\", \"stopped\"]}]}",		\
	.safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,	\
	.source = "CT-rec", .scope = TECH_REGIONS,			\
	.collect = "reservationSet.0.instancesSet.0.instanceId",	\
	.fallback = "{fake_instance_id}" }

#define NOTFOUND_INSTANCE \
	"InvalidInstanceID.NotFound,InvalidInstanceID.Malformed"

#define IAM_SF(act, ref, extra, src) {					\
	.id = act, .service = "iam", .action = act,			\
	.params = "{\"" ref "\": \"{name}\"" extra "}",			\
	.safety = AWS_SAFE_FAIL, .expect_error = "NoSuchEntity",	\
	.role = SIGNAL, .evidence = OBS, .source = src,			\
	.scope = TECH_GLOBAL, .target = "{name}" }

#define ADMIN_POLICY \
	", \"PolicyArn\": \"arn:aws:iam::aws:policy/AdministratorAccess\""
#define PASSWORD ", \"Password\": \"Cs-{run17}-Aa1!\""
/* Compact: moto's signature check re-encodes form bodies (spaces). */
#define TRUST_EXTERNAL \
	"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":" \
	"[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":" \
	"\\\"arn:aws:iam::" EXAMPLE_ACCOUNT ":root\\\"},\\\"Action\\\":" \
	"\\\"sts:AssumeRole\\\"}]}"

/* ---- Credential Access (TA0006) ---------------------------------------- */

static const char *const m_t1552[] = { "T1552 Unsecured Credentials", NULL };
static const char *const m_t1555_006[] = {
	"T1555.006 Credentials from Password Stores: Cloud Secrets "
	    "Management Stores", NULL };

static const char *const s_get_password[] = {
	"aws.credential-access.ec2-get-password-data", NULL };
static const struct technique_step st_get_password[] = {
	STEP_INSTANCES,
	{ .id = "password", .service = "ec2", .action = "GetPasswordData",
	    .params = "{\"InstanceId\": \"{step.inst}\", \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = NOTFOUND_INSTANCE,
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.inst}" },
	END
};

static const char *const s_sm_batch[] = {
	"aws.credential-access.secretsmanager-batch-retrieve-secrets", NULL };
static const struct technique_step st_sm_batch[] = {
	{ .id = "batch", .service = "secretsmanager",
	    .action = "BatchGetSecretValue",
	    .params = "{\"SecretIdList\": [\"{name}\"]}",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = OBS,
	    .source = "Stratus", .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const s_sm_get[] = {
	"aws.credential-access.secretsmanager-retrieve-secrets", NULL };
static const struct technique_step st_sm_get[] = {
	{ .id = "list", .service = "secretsmanager", .action = "ListSecrets",
	    .params = "{\"MaxResults\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = OBS,
	    .source = "Stratus", .scope = TECH_HOME },
	{ .id = "get", .service = "secretsmanager", .action = "GetSecretValue",
	    .params = "{\"SecretId\": \"{name}\"}",
	    .safety = AWS_SAFE_READ_ONLY,
	    .expect_error = "ResourceNotFoundException",
	    .role = SIGNAL, .evidence = OBS, .source = "Stratus",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const s_ssm_params[] = {
	"aws.credential-access.ssm-retrieve-securestring-parameters", NULL };
static const struct technique_step st_ssm_params[] = {
	{ .id = "describe", .service = "ssm", .action = "DescribeParameters",
	    .params = "{\"MaxResults\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = OBS,
	    .source = "Stratus", .scope = TECH_HOME },
	{ .id = "get", .service = "ssm", .action = "GetParameters",
	    .params = "{\"Names\": [\"/cloudsaga/{run}/secret\"], "
	    "\"WithDecryption\": true}",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = OBS,
	    .source = "Stratus", .scope = TECH_HOME,
	    .target = "/cloudsaga/{run}/secret" },
	END
};

/* ---- Defense Evasion (TA0005) ------------------------------------------ */

static const char *const m_t1562_008[] = {
	"T1562.008 Impair Defenses: Disable or Modify Cloud Logs", NULL };

static const char *const s_lifecycle[] = {
	"aws.defense-evasion.cloudtrail-lifecycle-rule", NULL };
static const struct technique_step st_lifecycle[] = {
	{ .id = "lifecycle", .service = "s3",
	    .action = "PutBucketLifecycleConfiguration",
	    .params = "{\"Bucket\": \"cloudsaga-{account_id}-{run}\", "
	    "\"LifecycleConfiguration\": \"<LifecycleConfiguration xmlns="
	    "\\\"http://s3.amazonaws.com/doc/2006-03-01/\\\"><Rule><ID>"
	    "cloudsaga</ID><Filter><Prefix></Prefix></Filter><Status>Enabled"
	    "</Status><Expiration><Days>1</Days></Expiration></Rule>"
	    "</LifecycleConfiguration>\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "NoSuchBucket",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "S3-ct",
	    .scope = TECH_HOME, .permission = "s3:PutLifecycleConfiguration",
	    .target = "cloudsaga-{account_id}-{run}" },
	END
};

static const char *const s_dns_logs[] = {
	"aws.defense-evasion.dns-delete-logs", NULL };
static const struct technique_step st_dns_logs[] = {
	{ .id = "delete", .service = "route53resolver",
	    .action = "DeleteResolverQueryLogConfig",
	    .params = "{\"ResolverQueryLogConfigId\": \"rqlc-{run}\"}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "ResourceNotFoundException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "rqlc-{run}" },
	END
};

static const char *const s_flow_logs[] = {
	"aws.defense-evasion.vpc-remove-flow-logs", NULL };
static const struct technique_step st_flow_logs[] = {
	{ .id = "fl", .service = "ec2", .action = "DescribeFlowLogs",
	    .params = "{\"MaxResults\": 5}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-rec", .scope = TECH_REGIONS,
	    .collect = "flowLogSet.0.flowLogId", .fallback = "fl-{run17}" },
	{ .id = "delete", .service = "ec2", .action = "DeleteFlowLogs",
	    .params = "{\"FlowLogId\": [\"{step.fl}\"], \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN,
	    .expect_error = "InvalidFlowLogId.NotFound",
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.fl}" },
	END
};

/* ---- Discovery (TA0007) ------------------------------------------------ */

static const char *const m_enumerate[] = {
	"T1580 Cloud Infrastructure Discovery",
	"T1087.004 Account Discovery: Cloud Account",
	"T1526 Cloud Service Discovery",
	"T1619 Cloud Storage Object Discovery",
	NULL
};
static const char *const s_enumerate[] = {
	"aws.discovery.ec2-enumerate-from-instance", NULL };
static const struct technique_step st_enumerate[] = {
	{ .id = "whoami", .service = "sts", .action = "GetCallerIdentity",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-glob", .scope = TECH_HOME },
	{ .id = "buckets", .service = "s3", .action = "ListBuckets",
	    .params = "{\"MaxBuckets\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "S3-ct", .scope = TECH_HOME,
	    .permission = "s3:ListAllMyBuckets" },
	{ .id = "summary", .service = "iam", .action = "GetAccountSummary",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-glob", .scope = TECH_GLOBAL },
	{ .id = "roles", .service = "iam", .action = "ListRoles",
	    .params = "{\"MaxItems\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-glob", .scope = TECH_GLOBAL },
	{ .id = "users", .service = "iam", .action = "ListUsers",
	    .params = "{\"MaxItems\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-glob", .scope = TECH_GLOBAL },
	{ .id = "authz", .service = "iam",
	    .action = "GetAccountAuthorizationDetails",
	    .params = "{\"MaxItems\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = DOC,
	    .source = "CT-glob", .scope = TECH_GLOBAL },
	{ .id = "snapshots", .service = "ec2", .action = "DescribeSnapshots",
	    .params = "{\"Owner\": [\"self\"], \"MaxResults\": 5}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-rec", .scope = TECH_HOME },
	{ .id = "trails", .service = "cloudtrail", .action = "DescribeTrails",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-rec", .scope = TECH_HOME },
	{ .id = "detectors", .service = "guardduty", .action = "ListDetectors",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-rec", .scope = TECH_HOME },
	END
};

static const char *const m_user_data_disc[] = {
	"T1580 Cloud Infrastructure Discovery",
	"T1552 Unsecured Credentials",
	NULL
};
static const char *const s_user_data_disc[] = {
	"aws.discovery.ec2-download-user-data", NULL };
static const struct technique_step st_user_data_disc[] = {
	STEP_INSTANCES,
	{ .id = "userdata", .service = "ec2",
	    .action = "DescribeInstanceAttribute",
	    .params = "{\"InstanceId\": \"{step.inst}\", \"Attribute\": "
	    "\"userData\", \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = NOTFOUND_INSTANCE,
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.inst}" },
	END
};

static const char *const m_t1526[] = { "T1526 Cloud Service Discovery",
	NULL };
static const char *const s_ses[] = { "aws.discovery.ses-enumerate", NULL };
static const struct technique_step st_ses[] = {
	{ .id = "enabled", .service = "ses",
	    .action = "GetAccountSendingEnabled",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = ASSUMED,
	    .source = "SES-ct", .scope = TECH_HOME },
	{ .id = "identities", .service = "ses", .action = "ListIdentities",
	    .params = "{\"MaxItems\": 1}",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = DOC,
	    .source = "SES-ct", .scope = TECH_HOME },
	{ .id = "verification", .service = "ses",
	    .action = "GetIdentityVerificationAttributes",
	    .params = "{\"Identities\": [\"{name}.example.com\"]}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "SES-ct", .scope = TECH_HOME },
	{ .id = "quota", .service = "ses", .action = "GetSendQuota",
	    .safety = AWS_SAFE_READ_ONLY, .role = SIGNAL, .evidence = DOC,
	    .source = "SES-ct", .scope = TECH_HOME },
	END
};

/* ---- Execution (TA0002) ------------------------------------------------ */

static const char *const m_user_data_exec[] = {
	"T1578.005 Modify Cloud Compute Infrastructure: Modify Cloud "
	    "Compute Configurations",
	"T1059.009 Command and Scripting Interpreter: Cloud API",
	NULL
};
static const char *const s_user_data_exec[] = {
	"aws.execution.ec2-user-data", NULL };
static const struct technique_step st_user_data_exec[] = {
	STEP_INSTANCES,
	{ .id = "stop", .service = "ec2", .action = "StopInstances",
	    .params = "{\"InstanceId\": [\"{step.inst}\"], \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = NOTFOUND_INSTANCE,
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.inst}" },
	{ .id = "userdata", .service = "ec2",
	    .action = "ModifyInstanceAttribute",
	    .params = "{\"InstanceId\": \"{step.inst}\", \"UserData\": "
	    "{\"Value\": \"IyEvYmluL3NoCiMgY2xvdWRzYWdhIGRyeS1ydW4gdXNlciBk"
	    "YXRhCg==\"}, \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = NOTFOUND_INSTANCE,
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.inst}" },
	{ .id = "start", .service = "ec2", .action = "StartInstances",
	    .params = "{\"InstanceId\": [\"{step.inst}\"], \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = NOTFOUND_INSTANCE,
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.inst}" },
	END
};

static const char *const s_sagemaker[] = {
	"aws.execution.sagemaker-update-lifecycle-config", NULL };
static const struct technique_step st_sagemaker[] = {
	{ .id = "stop", .service = "sagemaker",
	    .action = "StopNotebookInstance",
	    .params = "{\"NotebookInstanceName\": \"{name}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "ValidationException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{name}" },
	{ .id = "update", .service = "sagemaker",
	    .action = "UpdateNotebookInstance",
	    .params = "{\"NotebookInstanceName\": \"{name}\", "
	    "\"LifecycleConfigName\": \"{name}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "ValidationException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{name}" },
	{ .id = "start", .service = "sagemaker",
	    .action = "StartNotebookInstance",
	    .params = "{\"NotebookInstanceName\": \"{name}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "ValidationException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const m_t1651[] = { "T1651 Cloud Administration Command",
	NULL };
static const char *const s_send_command[] = {
	"aws.execution.ssm-send-command", NULL };
static const struct technique_step st_send_command[] = {
	{ .id = "send", .service = "ssm", .action = "SendCommand",
	    .params = "{\"DocumentName\": \"{name}\", \"InstanceIds\": "
	    "[\"{fake_instance_id}\"]}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "InvalidDocument,InvalidInstanceId",
	    .role = SIGNAL, .evidence = OBS, .source = "Stratus",
	    .scope = TECH_HOME, .target = "document {name}" },
	END
};

static const char *const s_start_session[] = {
	"aws.execution.ssm-start-session", NULL };
static const struct technique_step st_start_session[] = {
	{ .id = "session", .service = "ssm", .action = "StartSession",
	    .params = "{\"Target\": \"{fake_instance_id}\"}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "TargetNotConnected,InvalidTarget",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{fake_instance_id}" },
	END
};

/* ---- Lateral Movement (TA0008) ----------------------------------------- */

#define SSH_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmV/aWio3F+n3VZbh/" \
	"Az5Eb74xOnQdEh7qutsvnagwL cloudsaga-{run}"

static const char *const m_t1021_008[] = {
	"T1021.008 Remote Services: Direct Cloud VM Connections", NULL };
static const char *const s_eic[] = {
	"aws.lateral-movement.ec2-instance-connect", NULL };
static const struct technique_step st_eic[] = {
	{ .id = "key", .service = "ec2-instance-connect",
	    .action = "SendSSHPublicKey",
	    .params = "{\"InstanceId\": \"{fake_instance_id}\", "
	    "\"InstanceOSUser\": \"ec2-user\", \"SSHPublicKey\": \""
	    SSH_KEY "\"}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "EC2InstanceNotFoundException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{fake_instance_id}" },
	END
};

static const char *const s_serial[] = {
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key", NULL };
static const struct technique_step st_serial[] = {
	{ .id = "enable", .service = "ec2",
	    .action = "EnableSerialConsoleAccess",
	    .params = "{\"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .role = SIGNAL, .evidence = OBS,
	    .source = "EC2-dry", .scope = TECH_HOME },
	{ .id = "key", .service = "ec2-instance-connect",
	    .action = "SendSerialConsoleSSHPublicKey",
	    .params = "{\"InstanceId\": \"{fake_instance_id}\", "
	    "\"SSHPublicKey\": \"" SSH_KEY "\"}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "EC2InstanceNotFoundException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "KNOW",
	    .scope = TECH_HOME, .target = "{fake_instance_id}" },
	END
};

/* ---- Persistence (TA0003) ---------------------------------------------- */

static const char *const m_t1098_003[] = {
	"T1098.003 Account Manipulation: Additional Cloud Roles", NULL };
static const char *const m_t1098_001[] = {
	"T1098.001 Account Manipulation: Additional Cloud Credentials",
	NULL };
static const char *const m_t1136_003[] = {
	"T1136.003 Create Account: Cloud Account",
	"T1098.003 Account Manipulation: Additional Cloud Roles",
	NULL };
static const char *const m_lambda[] = {
	"T1648 Serverless Execution",
	"T1098 Account Manipulation",
	NULL };

static const char *const s_backdoor_role[] = {
	"aws.persistence.iam-backdoor-role", NULL };
static const struct technique_step st_backdoor_role[] = {
	IAM_SF("UpdateAssumeRolePolicy", "RoleName",
	    ", \"PolicyDocument\": \"" TRUST_EXTERNAL "\"", "IAM-err"),
	END
};

static const char *const s_backdoor_user[] = {
	"aws.persistence.iam-backdoor-user", NULL };
static const struct technique_step st_backdoor_user[] = {
	IAM_SF("CreateAccessKey", "UserName", "", "IAM-err"),
	END
};

static const char *const s_admin_user[] = {
	"aws.persistence.iam-create-admin-user", NULL };
static const struct technique_step st_admin_user[] = {
	IAM_SF("AttachUserPolicy", "UserName", ADMIN_POLICY, "IAM-err"),
	IAM_SF("CreateAccessKey", "UserName", "", "IAM-err"),
	/* Last: a create call, safe only through the boundary that cannot
	 * exist (IAM-pb). */
	{ .id = "CreateUser", .service = "iam", .action = "CreateUser",
	    .params = "{\"UserName\": \"{name}\", \"PermissionsBoundary\": "
	    "\"arn:aws:iam::aws:policy/cloudsaga-{run}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "NoSuchEntity",
	    .role = SIGNAL, .evidence = OBS, .source = "IAM-pb",
	    .scope = TECH_GLOBAL,
	    .target = "{name} (boundary cloudsaga-{run})" },
	END
};

static const char *const s_backdoor_new_role[] = {
	"aws.persistence.iam-create-backdoor-role", NULL };
static const struct technique_step st_backdoor_new_role[] = {
	IAM_SF("AttachRolePolicy", "RoleName", ADMIN_POLICY, "IAM-err"),
	{ .id = "CreateRole", .service = "iam", .action = "CreateRole",
	    .params = "{\"RoleName\": \"{name}\", "
	    "\"AssumeRolePolicyDocument\": \"" TRUST_EXTERNAL "\", "
	    "\"PermissionsBoundary\": "
	    "\"arn:aws:iam::aws:policy/cloudsaga-{run}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "NoSuchEntity",
	    .role = SIGNAL, .evidence = OBS, .source = "IAM-pb",
	    .scope = TECH_GLOBAL,
	    .target = "{name} (boundary cloudsaga-{run})" },
	END
};

static const char *const s_login_profile[] = {
	"aws.persistence.iam-create-user-login-profile", NULL };
static const struct technique_step st_login_profile[] = {
	IAM_SF("CreateLoginProfile", "UserName", PASSWORD, "IAM-err"),
	END
};

static const char *const s_lambda_backdoor[] = {
	"aws.persistence.lambda-backdoor-function", NULL };
static const struct technique_step st_lambda_backdoor[] = {
	{ .id = "permission", .service = "lambda", .action = "AddPermission",
	    .params = "{\"FunctionName\": \"{name}\", \"StatementId\": "
	    "\"cloudsaga\", \"Action\": \"lambda:InvokeFunction\", "
	    "\"Principal\": \"*\"}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "ResourceNotFoundException",
	    .role = SIGNAL, .evidence = OBS, .source = "L-ev",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const s_lambda_layer[] = {
	"aws.persistence.lambda-layer-extension", NULL };
static const struct technique_step st_lambda_layer[] = {
	{ .id = "layers", .service = "lambda",
	    .action = "UpdateFunctionConfiguration",
	    .params = "{\"FunctionName\": \"{name}\", \"Layers\": "
	    "[\"arn:aws:lambda:{region}:{account_id}:layer:{name}:1\"]}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "ResourceNotFoundException",
	    .role = SIGNAL, .evidence = OBS, .source = "L-ev",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const s_lambda_code[] = {
	"aws.persistence.lambda-overwrite-code", NULL };
static const struct technique_step st_lambda_code[] = {
	{ .id = "code", .service = "lambda", .action = "UpdateFunctionCode",
	    .params = "{\"FunctionName\": \"{name}\", \"S3Bucket\": "
	    "\"{name}\", \"S3Key\": \"backdoor.zip\", \"Publish\": true}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "ResourceNotFoundException",
	    .role = SIGNAL, .evidence = OBS, .source = "L-ev",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

/* ---- Privilege Escalation (TA0004) ------------------------------------- */

static const char *const m_t1098[] = { "T1098 Account Manipulation", NULL };
static const char *const s_update_login[] = {
	"aws.privilege-escalation.iam-update-user-login-profile", NULL };
static const struct technique_step st_update_login[] = {
	IAM_SF("UpdateLoginProfile", "UserName", PASSWORD, "IAM-err"),
	END
};

/* ---- Exfiltration (TA0010) --------------------------------------------- */

static const char *const m_t1537[] = {
	"T1537 Transfer Data to Cloud Account", NULL };

#define STEP_IMAGES {							\
	.id = "ami", .service = "ec2", .action = "DescribeImages",	\
	.params = "{\"Owner\": [\"self\"], \"MaxResults\": 5}",		\
	.safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,	\
	.source = "CT-rec", .scope = TECH_REGIONS,			\
	.collect = "imagesSet.0.imageId", .fallback = "ami-{run17}" }

static const char *const s_share_ami[] = {
	"aws.exfiltration.ec2-share-ami", NULL };
static const struct technique_step st_share_ami[] = {
	STEP_IMAGES,
	{ .id = "share", .service = "ec2", .action = "ModifyImageAttribute",
	    .params = "{\"ImageId\": \"{step.ami}\", \"LaunchPermission\": "
	    "{\"Add\": [{\"UserId\": \"" EXAMPLE_ACCOUNT "\"}]}, "
	    "\"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = "InvalidAMIID.NotFound",
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.ami}" },
	END
};

static const char *const s_share_snapshot[] = {
	"aws.exfiltration.ec2-share-ebs-snapshot", NULL };
static const struct technique_step st_share_snapshot[] = {
	{ .id = "snap", .service = "ec2", .action = "DescribeSnapshots",
	    .params = "{\"Owner\": [\"self\"], \"MaxResults\": 5}",
	    .safety = AWS_SAFE_READ_ONLY, .role = CONTEXT, .evidence = DOC,
	    .source = "CT-rec", .scope = TECH_REGIONS,
	    .collect = "snapshotSet.0.snapshotId",
	    .fallback = "snap-{run17}" },
	{ .id = "share", .service = "ec2",
	    .action = "ModifySnapshotAttribute",
	    .params = "{\"SnapshotId\": \"{step.snap}\", \"Attribute\": "
	    "\"createVolumePermission\", \"OperationType\": \"add\", "
	    "\"UserId\": [\"" EXAMPLE_ACCOUNT "\"], \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN,
	    .expect_error = "InvalidSnapshot.NotFound",
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.snap}" },
	END
};

static const char *const s_rds_snapshot[] = {
	"aws.exfiltration.rds-share-snapshot", NULL };
static const struct technique_step st_rds_snapshot[] = {
	{ .id = "share", .service = "rds",
	    .action = "ModifyDBSnapshotAttribute",
	    .params = "{\"DBSnapshotIdentifier\": \"{name}\", "
	    "\"AttributeName\": \"restore\", \"ValuesToAdd\": [\"all\"]}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "DBSnapshotNotFound",
	    .role = SIGNAL, .evidence = OBS, .source = "CT-rec",
	    .scope = TECH_HOME, .target = "{name}" },
	END
};

static const char *const s_bucket_policy[] = {
	"aws.exfiltration.s3-backdoor-bucket-policy", NULL };
static const struct technique_step st_bucket_policy[] = {
	{ .id = "policy", .service = "s3", .action = "PutBucketPolicy",
	    .params = "{\"Bucket\": \"cloudsaga-{account_id}-{run}\", "
	    "\"Policy\": \"{\\\"Version\\\": \\\"2012-10-17\\\", "
	    "\\\"Statement\\\": [{\\\"Effect\\\": \\\"Allow\\\", "
	    "\\\"Principal\\\": {\\\"AWS\\\": \\\"arn:aws:iam::"
	    EXAMPLE_ACCOUNT ":root\\\"}, \\\"Action\\\": \\\"s3:GetObject\\\", "
	    "\\\"Resource\\\": \\\"arn:aws:s3:::cloudsaga-{account_id}-{run}"
	    "/*\\\"}]}\"}",
	    .safety = AWS_SAFE_FAIL, .expect_error = "NoSuchBucket",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "S3-ct",
	    .scope = TECH_HOME, .target = "cloudsaga-{account_id}-{run}" },
	END
};

/* ---- Impact (TA0040) --------------------------------------------------- */

static const char *const m_t1485[] = { "T1485 Data Destruction", NULL };
static const char *const s_deregister[] = {
	"aws.impact.ec2-deregister-ami", NULL };
static const struct technique_step st_deregister[] = {
	STEP_IMAGES,
	{ .id = "deregister", .service = "ec2", .action = "DeregisterImage",
	    .params = "{\"ImageId\": \"{step.ami}\", \"DryRun\": true}",
	    .safety = AWS_SAFE_DRY_RUN, .expect_error = "InvalidAMIID.NotFound",
	    .role = SIGNAL, .evidence = OBS, .source = "EC2-dry",
	    .scope = TECH_REGIONS, .target = "{step.ami}" },
	END
};

static const char *const m_t1496_004[] = {
	"T1496.004 Resource Hijacking: Cloud Service Hijacking", NULL };
static const char *const s_bedrock[] = { "aws.impact.bedrock-invoke-model",
	NULL };
static const struct technique_step st_bedrock[] = {
	{ .id = "invoke", .service = "bedrock", .action = "InvokeModel",
	    .params = "{\"modelId\": \"{name}\", \"body\": {\"inputText\": "
	    "\"cloudsaga\"}}",
	    .safety = AWS_SAFE_FAIL,
	    .expect_error = "ValidationException,ResourceNotFoundException",
	    .role = SIGNAL, .evidence = ASSUMED, .source = "BR-ct",
	    .scope = TECH_HOME, .target = "model {name}" },
	END
};

/* ---- the table (any order: the registry sorts) ------------------------- */

#define CA	"Credential Access", "TA0006"
#define DE	"Defense Evasion", "TA0005"
#define DI	"Discovery", "TA0007"
#define EX	"Execution", "TA0002"
#define LM	"Lateral Movement", "TA0008"
#define PE	"Persistence", "TA0003"
#define PR	"Privilege Escalation", "TA0004"
#define XF	"Exfiltration", "TA0010"
#define IM	"Impact", "TA0040"

static const struct technique catalogue[] = {
	{ "ec2-get-password-data",
	    "ask for Windows instance passwords (dry-run, every region)",
"Attackers with stolen keys ask EC2 for the (encrypted) Windows\n"
"administrator password of instances.  In every region the technique\n"
"finds an instance (DescribeInstances) and sends GetPasswordData for it\n"
"with DryRun=true, which proves the permission and returns no data; in a\n"
"region without instances it aims at an instance ID that cannot exist.",
	    CA, m_t1552, s_get_password, st_get_password },
	{ "secretsmanager-batch-retrieve-secrets",
	    "BatchGetSecretValue on a secret named after the run (read-only)",
"Attackers read many secrets at once with BatchGetSecretValue.  The\n"
"technique asks for the secret cloudsaga-<runid>, which cannot exist:\n"
"the answer lists it under Errors and reveals nothing.",
	    CA, m_t1555_006, s_sm_batch, st_sm_batch },
	{ "secretsmanager-retrieve-secrets",
	    "ListSecrets, then GetSecretValue on a missing secret (read-only)",
"Attackers list the secrets, then read each value.  The technique lists\n"
"one secret's metadata and asks for the value of cloudsaga-<runid>,\n"
"which cannot exist (ResourceNotFoundException).  It never asks for a\n"
"real secret's value.",
	    CA, m_t1555_006, s_sm_get, st_sm_get },
	{ "ssm-retrieve-securestring-parameters",
	    "DescribeParameters, then GetParameters with decryption "
	    "(read-only)",
"Attackers list SSM parameters and read SecureString values with\n"
"decryption.  The technique lists one parameter and asks for\n"
"/cloudsaga/<runid>/secret with WithDecryption=true; it cannot exist and\n"
"comes back in InvalidParameters.",
	    CA, m_t1555_006, s_ssm_params, st_ssm_params },
	{ "cloudtrail-lifecycle-rule",
	    "a 1-day expiry rule on a trail bucket that does not exist "
	    "(safe-fail)",
"Attackers age out CloudTrail's log files with an S3 lifecycle rule on\n"
"the trail's bucket.  The technique puts a 1-day expiration rule on the\n"
"bucket cloudsaga-<account>-<runid>, which cannot exist (NoSuchBucket).\n"
"No AWS document says that S3 records a bucket-level call on a bucket\n"
"that does not exist: the expectation is assumed (see docs/CATALOGUE.md).",
	    DE, m_t1562_008, s_lifecycle, st_lifecycle },
	{ "dns-delete-logs",
	    "delete a Route 53 Resolver query log config that does not exist "
	    "(safe-fail)",
"Attackers delete DNS query logging.  The technique deletes the Resolver\n"
"query log configuration rqlc-<runid>, which cannot exist\n"
"(ResourceNotFoundException).",
	    DE, m_t1562_008, s_dns_logs, st_dns_logs },
	{ "vpc-remove-flow-logs",
	    "delete VPC flow logs (dry-run, every region)",
"Attackers delete VPC flow logs to hide their traffic.  In every region\n"
"the technique finds a flow log (DescribeFlowLogs) and deletes it with\n"
"DryRun=true; where there is none it aims at an ID that cannot exist.",
	    DE, m_t1562_008, s_flow_logs, st_flow_logs },
	{ "ec2-enumerate-from-instance",
	    "the discovery burst of stolen instance credentials (read-only)",
"Attackers who steal an instance's credentials look around: who am I,\n"
"buckets, the IAM account summary, roles, users, the whole authorisation\n"
"details, snapshots, trails, GuardDuty detectors.  The technique sends\n"
"the same read-only calls (one page each).  The signal is\n"
"GetAccountAuthorizationDetails; the rest is context.  cloudsagad's\n"
"identity is not an instance role, so rules keyed on one do not fire.",
	    DI, m_enumerate, s_enumerate, st_enumerate },
	{ "ec2-download-user-data",
	    "read instance user data (dry-run, every region)",
"Attackers read instances' user data, which often holds secrets.  In\n"
"every region the technique finds an instance and asks for its userData\n"
"attribute with DryRun=true (no data returned).",
	    DI, m_user_data_disc, s_user_data_disc, st_user_data_disc },
	{ "ses-enumerate",
	    "enumerate SES: sending enabled, identities, quota (read-only)",
"Attackers who want to send spam check whether SES can send and what it\n"
"may send from.  The technique sends the same four read-only calls in\n"
"the home region.  AWS's list of logged SES actions does not name\n"
"GetAccountSendingEnabled: its expectation is assumed.",
	    DI, m_t1526, s_ses, st_ses },
	{ "ec2-user-data",
	    "stop, change user data, start (dry-run, every region)",
"Attackers run code on an instance by stopping it, replacing its user\n"
"data and starting it again.  In every region the technique finds an\n"
"instance and sends StopInstances, ModifyInstanceAttribute (UserData)\n"
"and StartInstances, all with DryRun=true.",
	    EX, m_user_data_exec, s_user_data_exec, st_user_data_exec },
	{ "sagemaker-update-lifecycle-config",
	    "stop, re-configure, start a notebook that does not exist "
	    "(safe-fail)",
"Attackers give a SageMaker notebook a malicious lifecycle configuration\n"
"and restart it.  The technique stops, updates (lifecycle configuration\n"
"cloudsaga-<runid>) and starts the notebook cloudsaga-<runid>, which\n"
"cannot exist (ValidationException).  Creating the lifecycle\n"
"configuration itself has no safe form and is not sent.",
	    EX, m_user_data_exec, s_sagemaker, st_sagemaker },
	{ "ssm-send-command",
	    "SSM SendCommand with a document that does not exist (safe-fail)",
"Attackers run shell commands on instances through SSM.  The technique\n"
"sends SendCommand with the document cloudsaga-<runid>, which cannot\n"
"exist (InvalidDocument), to an instance ID that cannot exist: nothing\n"
"runs anywhere.",
	    EX, m_t1651, s_send_command, st_send_command },
	{ "ssm-start-session",
	    "SSM StartSession to an instance that does not exist (safe-fail)",
"Attackers open interactive sessions through Session Manager.  The\n"
"technique starts a session to an instance ID that cannot exist\n"
"(TargetNotConnected).",
	    EX, m_t1651, s_start_session, st_start_session },
	{ "ec2-instance-connect",
	    "push an SSH key to an instance that does not exist (safe-fail)",
"Attackers push an SSH key with EC2 Instance Connect and log in.  The\n"
"technique pushes a key to an instance ID that cannot exist\n"
"(EC2InstanceNotFoundException).  It never aims at a real instance:\n"
"there the key would really be accepted for 60 seconds.",
	    LM, m_t1021_008, s_eic, st_eic },
	{ "ec2-serial-console-send-ssh-public-key",
	    "enable the serial console (dry-run) and push a serial console key "
	    "(safe-fail)",
"Attackers enable EC2 serial console access for the account and push an\n"
"SSH key to an instance's serial console.  The technique sends\n"
"EnableSerialConsoleAccess with DryRun=true and the key to an instance\n"
"ID that cannot exist.",
	    LM, m_t1021_008, s_serial, st_serial },
	{ "iam-backdoor-role",
	    "make a role trust another account (safe-fail)",
"Attackers change a role's trust policy so another account can assume\n"
"it.  The technique updates the trust policy of the role\n"
"cloudsaga-<runid>, which cannot exist (NoSuchEntity).",
	    PE, m_t1098_003, s_backdoor_role, st_backdoor_role },
	{ "iam-backdoor-user",
	    "create an access key for a user (safe-fail)",
"Attackers create a second access key for an existing user.  The\n"
"technique asks for a key for the user cloudsaga-<runid>, which cannot\n"
"exist (NoSuchEntity).",
	    PE, m_t1098_001, s_backdoor_user, st_backdoor_user },
	{ "iam-create-admin-user",
	    "attach AdministratorAccess, create a key, create a user "
	    "(safe-fail)",
"Attackers create an administrator user with an access key.  The\n"
"technique attaches AdministratorAccess to and creates a key for the\n"
"user cloudsaga-<runid>, which does not exist, then creates that user\n"
"with a permissions boundary that cannot exist, so IAM refuses it\n"
"(NoSuchEntity) and creates nothing.",
	    PE, m_t1136_003, s_admin_user, st_admin_user },
	{ "iam-create-backdoor-role",
	    "attach AdministratorAccess, create a role trusting another "
	    "account (safe-fail)",
"Attackers create an administrator role that another account may\n"
"assume.  The technique attaches AdministratorAccess to the role\n"
"cloudsaga-<runid>, which does not exist, then creates it with a\n"
"permissions boundary that cannot exist (NoSuchEntity): nothing is made.",
	    PE, m_t1098_003, s_backdoor_new_role, st_backdoor_new_role },
	{ "iam-create-user-login-profile",
	    "give a user a console password (safe-fail)",
"Attackers give an IAM user a console password.  The technique creates\n"
"a login profile for the user cloudsaga-<runid>, which cannot exist.",
	    PE, m_t1098_001, s_login_profile, st_login_profile },
	{ "lambda-backdoor-function",
	    "let anyone invoke a function (safe-fail)",
"Attackers add a resource policy that lets any principal invoke a\n"
"function.  The technique sends AddPermission (Principal *) for the\n"
"function cloudsaga-<runid>, which cannot exist.  CloudTrail names the\n"
"event AddPermission20150331v2.",
	    PE, m_lambda, s_lambda_backdoor, st_lambda_backdoor },
	{ "lambda-layer-extension",
	    "add a layer to a function (safe-fail)",
"Attackers add a malicious layer (extension) to a function.  The\n"
"technique updates the configuration of the function cloudsaga-<runid>,\n"
"which cannot exist (event UpdateFunctionConfiguration20150331v2).",
	    PE, m_lambda, s_lambda_layer, st_lambda_layer },
	{ "lambda-overwrite-code",
	    "replace a function's code (safe-fail)",
"Attackers overwrite a function's code.  The technique updates the code\n"
"of the function cloudsaga-<runid>, which cannot exist (event\n"
"UpdateFunctionCode20150331v2).",
	    PE, m_lambda, s_lambda_code, st_lambda_code },
	{ "iam-update-user-login-profile",
	    "change a user's console password (safe-fail)",
"Attackers change another user's console password to take the user\n"
"over.  The technique updates the login profile of the user\n"
"cloudsaga-<runid>, which cannot exist.",
	    PR, m_t1098, s_update_login, st_update_login },
	{ "ec2-share-ami",
	    "share an AMI with another account (dry-run, every region)",
"Attackers share an image with their own account to copy data out.  In\n"
"every region the technique finds one of the account's images and adds\n"
"a launch permission for another account with DryRun=true.",
	    XF, m_t1537, s_share_ami, st_share_ami },
	{ "ec2-share-ebs-snapshot",
	    "share an EBS snapshot with another account (dry-run, every "
	    "region)",
"Attackers share a snapshot with their own account.  In every region the\n"
"technique finds one of the account's snapshots and adds a\n"
"createVolumePermission for another account with DryRun=true.",
	    XF, m_t1537, s_share_snapshot, st_share_snapshot },
	{ "rds-share-snapshot",
	    "make a DB snapshot that does not exist public (safe-fail)",
"Attackers share an RDS snapshot with everyone.  The technique adds\n"
"restore=all to the snapshot cloudsaga-<runid>, which cannot exist\n"
"(DBSnapshotNotFound).  It never aims at a real snapshot: there the\n"
"call would really share it.",
	    XF, m_t1537, s_rds_snapshot, st_rds_snapshot },
	{ "s3-backdoor-bucket-policy",
	    "a bucket policy for another account on a bucket that does not "
	    "exist (safe-fail)",
"Attackers give another account access to a bucket through its policy.\n"
"The technique puts such a policy on cloudsaga-<account>-<runid>, which\n"
"cannot exist (NoSuchBucket).  The expectation is assumed (see\n"
"docs/CATALOGUE.md).",
	    XF, m_t1537, s_bucket_policy, st_bucket_policy },
	{ "ec2-deregister-ami",
	    "deregister an AMI (dry-run, every region)",
"Attackers destroy images.  In every region the technique finds one of\n"
"the account's images and deregisters it with DryRun=true.",
	    IM, m_t1485, s_deregister, st_deregister },
	{ "bedrock-invoke-model",
	    "invoke a Bedrock model that does not exist (safe-fail)",
"Attackers with stolen keys run LLM workloads on the victim's bill\n"
"(LLMjacking).  The technique invokes the model cloudsaga-<runid>, which\n"
"cannot exist (ValidationException).  Enabling model access (Marketplace\n"
"entitlements) has no safe form and is not sent.  InvokeModel is a\n"
"management event, but the recording of a failed validation is\n"
"assumed.",
	    IM, m_t1496_004, s_bedrock, st_bedrock },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

/* ---- no safe form -------------------------------------------------------- */

static const struct technique_unsafe unsafe[] = {
	{ "ec2-steal-instance-credentials",
	    "aws.credential-access.ec2-steal-instance-credentials",
	    CA, "T1552.005 Unsecured Credentials: Cloud Instance Metadata API",
	    "It needs a real instance, a command run on it through SSM, and "
	    "the real use of its role's credentials from outside AWS (what "
	    "GuardDuty's InstanceCredentialExfiltration finding detects): "
	    "none of it can be done without changing or exposing the "
	    "account.",
	    "imds-reveal: instances that still allow IMDSv1, the usual way "
	    "such credentials are stolen (posture, read-only)." },
	{ "organizations-leave",
	    "aws.defense-evasion.organizations-leave",
	    DE, "T1666 Modify Cloud Resource Hierarchy",
	    "LeaveOrganization takes no target: nothing can be made to not "
	    "exist.  It is safe only from an identity with an explicit Deny, "
	    "which cloudsagad cannot prove; a member account allowed to "
	    "leave would really leave.",
	    NULL },
	{ "s3-ransomware-batch-deletion",
	    "aws.impact.s3-ransomware-batch-deletion",
	    IM, "T1485 Data Destruction",
	    "Its calls (ListObjectVersions, GetObject, DeleteObjects, "
	    "PutObject) are S3 data events: CloudTrail's LookupEvents never "
	    "returns them, so cloudsagad could not verify them, and deleting "
	    "objects is not safe.",
	    "public-resources: public buckets and Block Public Access "
	    "(posture)." },
	{ "s3-ransomware-client-side-encryption",
	    "aws.impact.s3-ransomware-client-side-encryption",
	    IM, "T1486 Data Encrypted for Impact",
	    "Object-level calls (GetObject, CopyObject with SSE-C, "
	    "PutObject) are data events, absent from LookupEvents, and "
	    "rewriting objects changes the account.",
	    "public-resources (posture)." },
	{ "s3-ransomware-individual-deletion",
	    "aws.impact.s3-ransomware-individual-deletion",
	    IM, "T1485 Data Destruction",
	    "DeleteObject and the calls around it are data events, absent "
	    "from LookupEvents; deleting objects is not safe.",
	    "public-resources (posture)." },
	{ "console-login-without-mfa",
	    "aws.initial-access.console-login-without-mfa",
	    "Initial Access", "TA0001",
	    "T1078.004 Valid Accounts: Cloud Accounts",
	    "It is a sign-in through signin.aws.amazon.com, not an AWS API, "
	    "and only a successful login without MFA exercises the "
	    "detection; a failed login tests another rule.",
	    NULL },
	{ "rolesanywhere-create-trust-anchor",
	    "aws.persistence.rolesanywhere-create-trust-anchor",
	    PE, "T1098.001 Account Manipulation: Additional Cloud Credentials",
	    "CreateTrustAnchor and CreateProfile create resources and "
	    "reference nothing that could be made missing.",
	    NULL },
	{ "sts-federation-token",
	    "aws.persistence.sts-federation-token",
	    PE, "T1098.001 Account Manipulation: Additional Cloud Credentials",
	    "Partial only, not built: with IAM user keys GetFederationToken "
	    "mints real credentials (neither safe-fail nor read-only); from a "
	    "role AWS refuses it, which cloudsagad cannot know beforehand.",
	    NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct technique_unsafe *
technique_unsafe_list(void)
{
	return unsafe;
}

const struct technique_unsafe *
technique_unsafe_find(const char *name)
{
	const struct technique_unsafe	*u;

	if (name == NULL)
		return NULL;
	for (u = unsafe; u->name != NULL; u++)
		if (strcmp(u->name, name) == 0 || strcmp(u->stratus, name) == 0)
			return u;
	return NULL;
}

const struct technique *
technique_catalogue(void)
{
	return catalogue;
}

const struct technique *
technique_find(const char *name)
{
	const struct technique	*t;

	if (name == NULL)
		return NULL;
	for (t = catalogue; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}
