"""The SMS settings custom resource: the inline code of `SmsSettingsFunction`, read from template.yaml
itself, run against moto's SNS (in-process) with a recording stand-in for `cfnresponse`, the module
Lambda provides to inline code.

Run by scripts/test.sh with the venv's Python (moto, boto3 and PyYAML come from
tools/requirements-dev.txt): `.venv/bin/python -m unittest discover -s tests/template`.
"""
import os
import sys
import types
import unittest
from pathlib import Path
from unittest import mock

import boto3
import yaml
from moto import mock_aws

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
ROLE_ARN = "arn:aws:iam::123456789012:role/kitchen-SmsDeliveryStatusRole"


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form functions (`!Ref`, `!GetAtt`, ...) as their plain arguments."""


def _intrinsic(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def inline_code():
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    return template["Resources"]["SmsSettingsFunction"]["Properties"]["InlineCode"]


class RecordingCfnResponse(types.ModuleType):
    """`cfnresponse` as Lambda provides it, with its `send` signature, recording instead of sending."""

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"

    def __init__(self):
        super().__init__("cfnresponse")
        self.sent = []

    def send(self, event, context, responseStatus, responseData, physicalResourceId=None,
             noEcho=False, reason=None):
        self.sent.append({
            "status": responseStatus,
            "data": responseData,
            "physical_id": physicalResourceId or context.log_stream_name,
        })


def event(request_type, limit="10", physical_id=None):
    event = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.invalid/",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/kitchen/1",
        "RequestId": "request-1",
        "ResourceType": "Custom::SmsSettings",
        "LogicalResourceId": "SmsSettings",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:kitchen-SmsSettingsFunction",
            # CloudFormation hands every property over as a string.
            "MonthlySpendLimit": limit,
            "DeliveryStatusRoleArn": ROLE_ARN,
            "SuccessSamplingRate": "100",
        },
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


class SmsSettingsTest(unittest.TestCase):
    def setUp(self):
        # moto in-process: no endpoint of a local stand-in, and credentials that reach nothing.
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        env.update(AWS_DEFAULT_REGION="eu-west-1", AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing")
        self.enterContext(mock.patch.dict(os.environ, env, clear=True))
        self.enterContext(mock_aws())
        self.sns = boto3.client("sns")
        self.cfnresponse = RecordingCfnResponse()
        with mock.patch.dict(sys.modules, {"cfnresponse": self.cfnresponse}):
            module = types.ModuleType("sms_settings")
            exec(compile(inline_code(), f"{TEMPLATE}:SmsSettingsFunction", "exec"), module.__dict__)
        self.handler = module.handler
        self.context = types.SimpleNamespace(log_stream_name="2026/12/01/[$LATEST]0123abcd")

    def account_has(self, **attributes):
        self.sns.set_sms_attributes(attributes=attributes)

    def attributes(self):
        return self.sns.get_sms_attributes()["attributes"]

    def run_handler(self, event):
        self.handler(event, self.context)
        self.assertEqual(len(self.cfnresponse.sent), 1, self.cfnresponse.sent)
        return self.cfnresponse.sent[0]

    def test_a_create_sets_transactional_sms_the_spend_limit_and_delivery_status_logs(self):
        sent = self.run_handler(event("Create", limit="10"))
        self.assertEqual(sent["status"], "SUCCESS", sent)
        self.assertEqual(self.attributes(), {
            "DefaultSMSType": "Transactional",
            "MonthlySpendLimit": "10",
            "DeliveryStatusIAMRole": ROLE_ARN,
            "DeliveryStatusSuccessSamplingRate": "100",
        })

    def test_an_account_limit_above_the_stacks_is_kept(self):
        self.account_has(MonthlySpendLimit="50")
        sent = self.run_handler(event("Create", limit="10"))
        self.assertEqual(sent["status"], "SUCCESS", sent)
        self.assertEqual(self.attributes()["MonthlySpendLimit"], "50")
        self.assertEqual(self.attributes()["DefaultSMSType"], "Transactional")

    def test_an_account_limit_below_the_stacks_is_raised(self):
        self.account_has(MonthlySpendLimit="1")
        sent = self.run_handler(event("Create", limit="10"))
        self.assertEqual(sent["status"], "SUCCESS", sent)
        self.assertEqual(self.attributes()["MonthlySpendLimit"], "10")

    def test_an_update_never_lowers_the_limit_and_keeps_the_resource(self):
        self.account_has(MonthlySpendLimit="50")
        sent = self.run_handler(event("Update", limit="20", physical_id="sms-settings-1"))
        self.assertEqual(sent["status"], "SUCCESS", sent)
        self.assertEqual(self.attributes()["MonthlySpendLimit"], "50")
        # Another id would tell CloudFormation the resource was replaced, and delete the old one.
        self.assertEqual(sent["physical_id"], "sms-settings-1")

    def test_a_delete_leaves_the_account_as_it_is_and_reports_success(self):
        self.account_has(MonthlySpendLimit="50", DefaultSMSType="Promotional")
        malformed = event("Delete", physical_id="sms-settings-1")
        del malformed["ResourceProperties"]["MonthlySpendLimit"]
        sent = self.run_handler(malformed)
        self.assertEqual(sent["status"], "SUCCESS", sent)
        self.assertEqual(sent["physical_id"], "sms-settings-1")
        self.assertEqual(self.attributes(),
                         {"MonthlySpendLimit": "50", "DefaultSMSType": "Promotional"})

    def test_a_failure_is_reported_to_cloudformation(self):
        malformed = event("Create")
        del malformed["ResourceProperties"]["MonthlySpendLimit"]
        sent = self.run_handler(malformed)
        self.assertEqual(sent["status"], "FAILED", sent)
        self.assertIn("MonthlySpendLimit", sent["data"]["Error"])
        self.assertEqual(self.attributes(), {})


if __name__ == "__main__":
    unittest.main()
