"""The technique catalogue's calls beyond EC2/IAM basics, each answered as
AWS answers it and recorded as CloudTrail records it (eventSource,
eventName, region, errorCode), and the inventory that proves the safe-fail
forms change nothing."""

import io
import json
import zipfile

import harness
from harness import SandboxTestCase

RUN = "0123456789abcdef0123456789abcdef"
MISSING = "cloudsaga-" + RUN
INSTANCE = "i-0123456789abcdef0"
KEY = "ssh-ed25519 " + "A" * 68 + " cloudsaga-" + RUN


def zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


class ServicesTest(SandboxTestCase):
    sandbox_args = ("--lookup-tps", "0")

    def setUp(self):
        self.sandbox.reset()

    def client(self, name, region="us-east-1"):
        return self.sandbox.client(name, region=region)

    def fails(self, fn, code, status, **kw):
        try:
            fn(**kw)
        except Exception as e:
            resp = getattr(e, "response", None)
            if resp is None:
                raise
            self.assertEqual((resp["Error"]["Code"],
                              resp["ResponseMetadata"]["HTTPStatusCode"]), (code, status),
                             str(e))
            return resp
        self.fail("%s succeeded, expected %s" % (fn.__name__, code))

    def record(self, name, source, region="us-east-1", error=None, index=-1):
        """The record of the last call named `name`, checked."""
        recs = self.sandbox.events(eventName=name)
        self.assertTrue(recs, "no record named %s" % name)
        r = recs[index]["record"]
        self.assertEqual((r["eventSource"], r["eventName"], r["awsRegion"],
                          r.get("errorCode")), (source, name, region, error))
        self.assertTrue(r["managementEvent"])
        self.assertTrue(recs[index]["visible"])
        return r

    def lookup_finds(self, name, region="us-east-1"):
        ct = self.client("cloudtrail", region)
        return [e["EventName"] for e in ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]]

    def test_secretsmanager(self):
        sm = self.client("secretsmanager", "eu-west-1")
        self.assertEqual(sm.list_secrets()["SecretList"], [])
        self.record("ListSecrets", "secretsmanager.amazonaws.com", "eu-west-1")
        self.fails(sm.get_secret_value, "ResourceNotFoundException", 400, SecretId=MISSING)
        r = self.record("GetSecretValue", "secretsmanager.amazonaws.com", "eu-west-1",
                        "ResourceNotFoundException")
        self.assertEqual(r["requestParameters"], {"secretId": MISSING})
        self.assertTrue(r["readOnly"])
        out = sm.batch_get_secret_value(SecretIdList=[MISSING])
        self.assertEqual(out["SecretValues"], [])
        self.assertEqual([(e["SecretId"], e["ErrorCode"]) for e in out["Errors"]],
                         [(MISSING, "ResourceNotFoundException")])
        r = self.record("BatchGetSecretValue", "secretsmanager.amazonaws.com", "eu-west-1")
        self.assertTrue(r["readOnly"])
        self.assertEqual(self.lookup_finds("BatchGetSecretValue", "eu-west-1"),
                         ["BatchGetSecretValue"])

    def test_ssm(self):
        ssm = self.client("ssm")
        ssm.describe_parameters()
        self.record("DescribeParameters", "ssm.amazonaws.com")
        out = ssm.get_parameters(Names=["/cloudsaga/%s/a" % RUN], WithDecryption=True)
        self.assertEqual(out["InvalidParameters"], ["/cloudsaga/%s/a" % RUN])
        r = self.record("GetParameters", "ssm.amazonaws.com")
        self.assertEqual(r["requestParameters"]["withDecryption"], True)
        self.fails(ssm.send_command, "InvalidDocument", 400, DocumentName=MISSING,
                   InstanceIds=[INSTANCE])
        self.record("SendCommand", "ssm.amazonaws.com", error="InvalidDocument")
        self.assertEqual(ssm.list_commands()["Commands"], [])
        # An existing AWS document still works as in moto.
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[INSTANCE],
                         Parameters={"commands": ["true"]})
        self.fails(ssm.start_session, "TargetNotConnected", 400, Target=MISSING)
        r = self.record("StartSession", "ssm.amazonaws.com", error="TargetNotConnected")
        self.assertEqual(r["requestParameters"], {"target": MISSING})

    def test_route53resolver(self):
        r53 = self.client("route53resolver", "us-west-2")
        self.fails(r53.delete_resolver_query_log_config, "ResourceNotFoundException", 400,
                   ResolverQueryLogConfigId="rqlc-" + RUN[:16])
        self.record("DeleteResolverQueryLogConfig", "route53resolver.amazonaws.com",
                    "us-west-2", "ResourceNotFoundException")
        # An existing one is deleted.
        cfg = r53.create_resolver_query_log_config(
            Name="q", DestinationArn="arn:aws:logs:us-west-2:123456789012:log-group:g",
            CreatorRequestId="x")["ResolverQueryLogConfig"]
        inv = self.sandbox.admin("GET", "/_sandbox/inventory")
        region = inv["accounts"]["123456789012"]["regions"]["us-west-2"]
        self.assertEqual([c["id"] for c in region["resolverQueryLogConfigs"]], [cfg["Id"]])
        out = r53.delete_resolver_query_log_config(ResolverQueryLogConfigId=cfg["Id"])
        self.assertEqual(out["ResolverQueryLogConfig"]["Status"], "DELETING")
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory"), {"accounts": {}})

    def test_ses(self):
        ses = self.client("ses", "eu-west-1")
        self.assertIn("Max24HourSend", ses.get_send_quota())
        self.assertEqual(ses.list_identities()["Identities"], [])
        self.assertEqual(ses.get_identity_verification_attributes(
            Identities=["a@example.com"])["VerificationAttributes"], {})
        self.assertEqual(ses.get_account_sending_enabled()["Enabled"], True)
        for name in ("GetSendQuota", "ListIdentities", "GetIdentityVerificationAttributes",
                     "GetAccountSendingEnabled"):
            r = self.record(name, "ses.amazonaws.com", "eu-west-1")
            self.assertEqual(r["apiVersion"], "2010-12-01")
        # Sending is not logged by CloudTrail.
        ses.verify_email_identity(EmailAddress="a@example.com")
        ses.send_email(Source="a@example.com", Destination={"ToAddresses": ["b@example.com"]},
                       Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        self.assertEqual(self.sandbox.events(eventName="SendEmail"), [])
        # Faults address the service by its signing name (or the endpoint prefix).
        self.sandbox.config(faults=["email:503:1x"])
        self.fails(ses.get_send_quota, "ServiceUnavailable", 503)

    def test_sagemaker(self):
        sm = self.client("sagemaker")
        for fn, name, kw in ((sm.stop_notebook_instance, "StopNotebookInstance", {}),
                             (sm.update_notebook_instance, "UpdateNotebookInstance",
                              {"LifecycleConfigName": MISSING}),
                             (sm.start_notebook_instance, "StartNotebookInstance", {})):
            resp = self.fails(fn, "ValidationException", 400, NotebookInstanceName=MISSING, **kw)
            self.assertEqual(resp["Error"]["Message"], "RecordNotFound")
            r = self.record(name, "sagemaker.amazonaws.com", error="ValidationException")
            self.assertEqual(r["errorMessage"], "RecordNotFound")

    def test_ec2_instance_connect(self):
        eic = self.client("ec2-instance-connect", "eu-central-1")
        self.fails(eic.send_ssh_public_key, "EC2InstanceNotFoundException", 400,
                   InstanceId=INSTANCE, InstanceOSUser="ec2-user", SSHPublicKey=KEY)
        self.record("SendSSHPublicKey", "ec2-instance-connect.amazonaws.com", "eu-central-1",
                    "EC2InstanceNotFoundException")
        self.fails(eic.send_serial_console_ssh_public_key, "EC2InstanceNotFoundException", 400,
                   InstanceId=INSTANCE, SSHPublicKey=KEY)
        self.record("SendSerialConsoleSSHPublicKey", "ec2-instance-connect.amazonaws.com",
                    "eu-central-1", "EC2InstanceNotFoundException")
        # A real instance: the key is accepted; the serial console is off.
        ec2 = self.client("ec2", "eu-central-1")
        image = ec2.describe_images()["Images"][0]["ImageId"]
        inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
        self.assertTrue(eic.send_ssh_public_key(InstanceId=inst["InstanceId"],
                                                InstanceOSUser="ec2-user",
                                                SSHPublicKey=KEY)["Success"])
        self.fails(eic.send_serial_console_ssh_public_key,
                   "SerialConsoleAccessDisabledException", 400,
                   InstanceId=inst["InstanceId"], SSHPublicKey=KEY)

    def test_lambda(self):
        lam = self.client("lambda")
        lam.list_functions()
        self.record("ListFunctions20150331", "lambda.amazonaws.com")
        for fn, name, kw in (
                (lam.add_permission, "AddPermission20150331v2",
                 {"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "*"}),
                (lam.update_function_configuration, "UpdateFunctionConfiguration20150331v2",
                 {"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:x:1"]}),
                (lam.update_function_code, "UpdateFunctionCode20150331v2",
                 {"ZipFile": b"PK", "Publish": True})):
            resp = self.fails(fn, "ResourceNotFoundException", 404, FunctionName=MISSING, **kw)
            self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                             "ResourceNotFoundException")
            r = self.record(name, "lambda.amazonaws.com", error="ResourceNotFoundException")
            self.assertEqual(r["requestParameters"]["functionName"], MISSING)
        r = self.record("UpdateFunctionCode20150331v2", "lambda.amazonaws.com",
                        error="ResourceNotFoundException")
        self.assertEqual(r["requestParameters"]["zipFile"], "HIDDEN_DUE_TO_SECURITY_REASONS")
        self.assertEqual(self.lookup_finds("AddPermission20150331v2"), ["AddPermission20150331v2"])

    def test_bedrock_runtime(self):
        br = self.client("bedrock-runtime", "us-west-2")
        resp = self.fails(br.invoke_model, "ValidationException", 400, modelId=MISSING,
                          body=b'{"inputText": "x"}')
        self.assertEqual(resp["Error"]["Message"], "The provided model identifier is invalid.")
        r = self.record("InvokeModel", "bedrock.amazonaws.com", "us-west-2",
                        "ValidationException")
        self.assertEqual(r["requestParameters"], {"modelId": MISSING})
        self.assertEqual(self.lookup_finds("InvokeModel", "us-west-2"), ["InvokeModel"])
        # A foundation model ID is answered (by moto's stub).
        out = br.invoke_model(modelId="amazon.titan-text-express-v1",
                              body=b'{"inputText": "x"}')
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_s3_bucket_calls_on_missing_bucket(self):
        s3 = self.client("s3")
        bucket = "cloudsaga-123456789012-" + RUN[:20]
        self.fails(s3.put_bucket_policy, "NoSuchBucket", 404, Bucket=bucket,
                   Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        r = self.record("PutBucketPolicy", "s3.amazonaws.com", error="NoSuchBucket")
        self.assertEqual(r["requestParameters"]["bucketName"], bucket)
        self.fails(s3.put_bucket_lifecycle_configuration, "NoSuchBucket", 404, Bucket=bucket,
                   LifecycleConfiguration={"Rules": [{"ID": "r", "Status": "Enabled",
                                                      "Filter": {"Prefix": ""},
                                                      "Expiration": {"Days": 1}}]})
        self.record("PutBucketLifecycle", "s3.amazonaws.com", error="NoSuchBucket")
        self.assertEqual(self.lookup_finds("PutBucketLifecycle"), ["PutBucketLifecycle"])
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_iam_safe_fail_forms(self):
        iam = self.client("iam")
        calls = (
            (iam.update_assume_role_policy, "UpdateAssumeRolePolicy",
             {"RoleName": MISSING, "PolicyDocument": "{}"}),
            (iam.create_access_key, "CreateAccessKey", {"UserName": MISSING}),
            (iam.create_login_profile, "CreateLoginProfile",
             {"UserName": MISSING, "Password": "Cl0udSaga!pass"}),
            (iam.update_login_profile, "UpdateLoginProfile",
             {"UserName": MISSING, "Password": "Cl0udSaga!pass"}),
            (iam.attach_user_policy, "AttachUserPolicy",
             {"UserName": MISSING, "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            (iam.attach_role_policy, "AttachRolePolicy",
             {"RoleName": MISSING, "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            (iam.create_user, "CreateUser",
             {"UserName": MISSING, "PermissionsBoundary": "arn:aws:iam::aws:policy/" + MISSING}),
            (iam.create_role, "CreateRole",
             {"RoleName": MISSING, "AssumeRolePolicyDocument": json.dumps({
                 "Version": "2012-10-17", "Statement": [{
                     "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                     "Action": "sts:AssumeRole"}]}),
              "PermissionsBoundary": "arn:aws:iam::123456789012:policy/" + MISSING}))
        for fn, name, kw in calls:
            self.fails(fn, "NoSuchEntity", 404, **kw)
            r = self.record(name, "iam.amazonaws.com", error="NoSuchEntityException")
            self.assertEqual(r["responseElements"], None)
        r = self.record("CreateLoginProfile", "iam.amazonaws.com", error="NoSuchEntityException")
        self.assertEqual(r["requestParameters"]["password"], "HIDDEN_DUE_TO_SECURITY_REASONS")
        # Nothing was created.
        self.assertEqual(iam.list_users()["Users"], [])
        self.assertEqual(iam.list_roles()["Roles"], [])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory"), {"accounts": {}})
        # With a boundary that exists (AWS managed or own), the user is made.
        iam.create_user(UserName="u1", PermissionsBoundary="arn:aws:iam::aws:policy/"
                        "PowerUserAccess")
        pol = iam.create_policy(PolicyName="b", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                                                    "Resource": "*"}]}))["Policy"]["Arn"]
        iam.create_user(UserName="u2", PermissionsBoundary=pol)
        self.assertEqual(sorted(u["UserName"] for u in iam.list_users()["Users"]), ["u1", "u2"])
        # CloudTrail sees the IAM errors in us-east-1 whatever the region asked.
        self.assertEqual(self.lookup_finds("CreateUser").count("CreateUser"), 3)

    def test_ec2_dry_run_catalogue(self):
        ec2 = self.client("ec2", "ap-southeast-2")
        calls = (
            ("GetPasswordData", ec2.get_password_data, {"InstanceId": INSTANCE}),
            ("DescribeInstanceAttribute", ec2.describe_instance_attribute,
             {"InstanceId": INSTANCE, "Attribute": "userData"}),
            ("DeleteFlowLogs", ec2.delete_flow_logs, {"FlowLogIds": ["fl-0123456789abcdef0"]}),
            ("StopInstances", ec2.stop_instances, {"InstanceIds": [INSTANCE]}),
            ("StartInstances", ec2.start_instances, {"InstanceIds": [INSTANCE]}),
            ("ModifyInstanceAttribute", ec2.modify_instance_attribute,
             {"InstanceId": INSTANCE, "UserData": {"Value": b"#!/bin/sh\n"}}),
            ("ModifyImageAttribute", ec2.modify_image_attribute,
             {"ImageId": "ami-0123456789abcdef0",
              "LaunchPermission": {"Add": [{"UserId": "999988887777"}]}}),
            ("ModifySnapshotAttribute", ec2.modify_snapshot_attribute,
             {"SnapshotId": "snap-0123456789abcdef0", "Attribute": "createVolumePermission",
              "OperationType": "add", "UserIds": ["999988887777"]}),
            ("DeregisterImage", ec2.deregister_image, {"ImageId": "ami-0123456789abcdef0"}),
            ("EnableSerialConsoleAccess", ec2.enable_serial_console_access, {}))
        for name, fn, kw in calls:
            resp = self.fails(fn, "DryRunOperation", 412, DryRun=True, **kw)
            self.assertEqual(resp["Error"]["Message"],
                             "Request would have succeeded, but DryRun flag is set.")
            r = self.record(name, "ec2.amazonaws.com", "ap-southeast-2", "Client.DryRunOperation")
            self.assertEqual(r["requestParameters"]["dryRun"], True)
            self.assertEqual(r["requestID"], resp["ResponseMetadata"]["RequestId"])
        # IDs that are not syntactically EC2 IDs are refused first.
        for fn, kw, code in (
                (ec2.get_password_data, {"InstanceId": "i-" + RUN}, "InvalidInstanceID.Malformed"),
                (ec2.stop_instances, {"InstanceIds": [INSTANCE, "i-xyz"]},
                 "InvalidInstanceID.Malformed"),
                (ec2.deregister_image, {"ImageId": "ami-" + RUN}, "InvalidAMIID.Malformed"),
                (ec2.modify_snapshot_attribute, {"SnapshotId": "snap-1", "Attribute":
                                                 "createVolumePermission"},
                 "InvalidSnapshotID.Malformed")):
            self.fails(fn, code, 400, DryRun=True, **kw)
        self.assertEqual(self.sandbox.events(eventName="GetPasswordData")[-1]["record"]
                         ["errorCode"], "Client.InvalidInstanceID.Malformed")
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory"), {"accounts": {}})

    def test_rds_snapshot_attribute(self):
        rds = self.client("rds", "eu-west-1")
        self.fails(rds.modify_db_snapshot_attribute, "DBSnapshotNotFound", 404,
                   DBSnapshotIdentifier=MISSING, AttributeName="restore", ValuesToAdd=["all"])
        r = self.record("ModifyDBSnapshotAttribute", "rds.amazonaws.com", "eu-west-1",
                        "DBSnapshotNotFound")
        self.assertEqual(r["requestParameters"]["dBSnapshotIdentifier"], MISSING)

    def seed_world(self):
        """One of everything the inventory lists."""
        sm = self.client("secretsmanager")
        sm.create_secret(Name="db-password", SecretString="hunter2")
        ssm = self.client("ssm")
        ssm.put_parameter(Name="/app/token", Value="t", Type="SecureString")
        iam = self.client("iam")
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]
        iam.create_user(UserName="alice")
        iam.create_access_key(UserName="alice")
        iam.create_login_profile(UserName="alice", Password="Xx1!aaaaaaaaaa")
        iam.attach_user_policy(UserName="alice",
                               PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        iam.create_policy(PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                                                    "Resource": "*"}]}))
        lam = self.client("lambda")
        lam.create_function(FunctionName="fn", Runtime="python3.11", Role=role["Arn"],
                            Handler="index.handler", Code={"ZipFile": zip_bytes()})
        self.client("sagemaker").create_notebook_instance(
            NotebookInstanceName="nb", InstanceType="ml.t3.medium", RoleArn=role["Arn"])
        self.client("route53resolver").create_resolver_query_log_config(
            Name="q", DestinationArn="arn:aws:logs:us-east-1:123456789012:log-group:g",
            CreatorRequestId="r")
        s3 = self.client("s3")
        s3.create_bucket(Bucket="logs-bucket")
        s3.put_bucket_policy(Bucket="logs-bucket", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                    "Action": "s3:*", "Resource": "*"}]}))
        s3.put_bucket_lifecycle_configuration(Bucket="logs-bucket", LifecycleConfiguration={
            "Rules": [{"ID": "keep", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Expiration": {"Days": 400}}]})

    def test_inventory_covers_the_catalogue_and_safe_fails_change_nothing(self):
        self.seed_world()
        before = self.sandbox.admin("GET", "/_sandbox/inventory")
        acct = before["accounts"]["123456789012"]
        region = acct["regions"]["us-east-1"]
        self.assertEqual([s["name"] for s in region["secrets"]], ["db-password"])
        self.assertNotIn("hunter2", json.dumps(before))
        self.assertEqual([p["name"] for p in region["parameters"]], ["/app/token"])
        self.assertEqual([f["functionName"] for f in region["lambdaFunctions"]], ["fn"])
        self.assertEqual([n["name"] for n in region["notebookInstances"]], ["nb"])
        self.assertEqual([c["name"] for c in region["resolverQueryLogConfigs"]], ["q"])
        alice = acct["iam"]["users"][0]
        self.assertEqual((alice["userName"], len(alice["accessKeys"]), alice["loginProfile"],
                          alice["attachedPolicies"]),
                         ("alice", 1, True, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]))
        self.assertEqual([r["roleName"] for r in acct["iam"]["roles"]], ["fn-role"])
        self.assertEqual([p["arn"] for p in acct["iam"]["policies"]],
                         ["arn:aws:iam::123456789012:policy/p"])
        bucket = acct["buckets"][0]
        self.assertIn("Deny", bucket["policy"])
        self.assertEqual(bucket["lifecycleRules"], ["keep"])

        # Every safe-fail form of the catalogue against this world.
        self.safe_fail_calls()
        after = self.sandbox.admin("GET", "/_sandbox/inventory")
        self.assertEqual(before, after)
        # Whereas a real change shows up.
        self.client("iam").attach_role_policy(
            RoleName="fn-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        changed = self.sandbox.admin("GET", "/_sandbox/inventory")
        self.assertEqual(changed["accounts"]["123456789012"]["iam"]["roles"][0]
                         ["attachedPolicies"], ["arn:aws:iam::aws:policy/AdministratorAccess"])

    def safe_fail_calls(self):
        c = self.client
        bucket = "cloudsaga-123456789012-" + RUN[:20]
        lc = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                         "Expiration": {"Days": 1}}]}
        admin = "arn:aws:iam::aws:policy/AdministratorAccess"
        calls = (
            (c("secretsmanager").get_secret_value, "ResourceNotFoundException",
             {"SecretId": MISSING}),
            (c("ssm").send_command, "InvalidDocument",
             {"DocumentName": MISSING, "InstanceIds": [INSTANCE]}),
            (c("ssm").start_session, "TargetNotConnected", {"Target": MISSING}),
            (c("route53resolver").delete_resolver_query_log_config,
             "ResourceNotFoundException", {"ResolverQueryLogConfigId": "rqlc-" + RUN[:16]}),
            (c("sagemaker").stop_notebook_instance, "ValidationException",
             {"NotebookInstanceName": MISSING}),
            (c("sagemaker").update_notebook_instance, "ValidationException",
             {"NotebookInstanceName": MISSING, "LifecycleConfigName": MISSING}),
            (c("sagemaker").start_notebook_instance, "ValidationException",
             {"NotebookInstanceName": MISSING}),
            (c("ec2-instance-connect").send_ssh_public_key, "EC2InstanceNotFoundException",
             {"InstanceId": INSTANCE, "InstanceOSUser": "ec2-user", "SSHPublicKey": KEY}),
            (c("ec2-instance-connect").send_serial_console_ssh_public_key,
             "EC2InstanceNotFoundException", {"InstanceId": INSTANCE, "SSHPublicKey": KEY}),
            (c("lambda").add_permission, "ResourceNotFoundException",
             {"FunctionName": MISSING, "StatementId": "s", "Action": "lambda:InvokeFunction",
              "Principal": "*"}),
            (c("lambda").update_function_configuration, "ResourceNotFoundException",
             {"FunctionName": MISSING, "Layers": ["arn:aws:lambda:us-east-1:1:layer:x:1"]}),
            (c("lambda").update_function_code, "ResourceNotFoundException",
             {"FunctionName": MISSING, "ZipFile": zip_bytes(), "Publish": True}),
            (c("bedrock-runtime").invoke_model, "ValidationException",
             {"modelId": MISSING, "body": b"{}"}),
            (c("s3").put_bucket_policy, "NoSuchBucket", {"Bucket": bucket, "Policy": "{}"}),
            (c("s3").put_bucket_lifecycle_configuration, "NoSuchBucket",
             {"Bucket": bucket, "LifecycleConfiguration": lc}),
            (c("iam").update_assume_role_policy, "NoSuchEntity",
             {"RoleName": MISSING, "PolicyDocument": "{}"}),
            (c("iam").create_access_key, "NoSuchEntity", {"UserName": MISSING}),
            (c("iam").create_login_profile, "NoSuchEntity",
             {"UserName": MISSING, "Password": "Cl0udSaga!pass"}),
            (c("iam").update_login_profile, "NoSuchEntity",
             {"UserName": MISSING, "Password": "Cl0udSaga!pass"}),
            (c("iam").attach_user_policy, "NoSuchEntity", {"UserName": MISSING,
                                                           "PolicyArn": admin}),
            (c("iam").attach_role_policy, "NoSuchEntity", {"RoleName": MISSING,
                                                           "PolicyArn": admin}),
            (c("iam").create_user, "NoSuchEntity",
             {"UserName": MISSING, "PermissionsBoundary": "arn:aws:iam::aws:policy/" + MISSING}),
            (c("iam").create_role, "NoSuchEntity",
             {"RoleName": MISSING, "AssumeRolePolicyDocument": "{}",
              "PermissionsBoundary": "arn:aws:iam::aws:policy/" + MISSING}),
            (c("rds").modify_db_snapshot_attribute, "DBSnapshotNotFound",
             {"DBSnapshotIdentifier": MISSING, "AttributeName": "restore",
              "ValuesToAdd": ["all"]}),
        )
        for fn, code, kw in calls:
            try:
                fn(**kw)
            except Exception as e:
                self.assertEqual(e.response["Error"]["Code"], code, fn.__name__)
            else:
                self.fail("%s succeeded" % fn.__name__)
        ec2 = c("ec2")
        for fn, kw in ((ec2.stop_instances, {"InstanceIds": [INSTANCE]}),
                       (ec2.modify_instance_attribute, {"InstanceId": INSTANCE,
                                                        "UserData": {"Value": b"x"}}),
                       (ec2.deregister_image, {"ImageId": "ami-0123456789abcdef0"}),
                       (ec2.enable_serial_console_access, {})):
            self.fails(fn, "DryRunOperation", 412, DryRun=True, **kw)


if __name__ == "__main__":
    harness.main()
