"""scripts/sms-tail.py shows each email moto recorded with its recipients, subject and body, so a
developer of `make dev` can open the link it carries. Run by scripts/test.sh."""

import importlib.util
import pathlib
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "sms-tail.py"
spec = importlib.util.spec_from_file_location("sms_tail", SCRIPT)
sms_tail = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sms_tail)


class FormatEmail(unittest.TestCase):
    def test_an_email_shows_its_recipient_subject_and_every_body_line(self):
        shown = sms_tail.format_email(
            {
                "id": "x",
                "source": "kitchen@kitchen.local",
                "subject": "Confirm your email address",
                "body": "Hello Ada,\n\nhttp://127.0.0.1:9000/auth/email/verify?token=abc\n",
                "destinations": {"ToAddresses": ["ada@example.com"]},
            }
        )
        lines = shown.splitlines()
        self.assertEqual(lines[0], "[email] to ada@example.com: Confirm your email address")
        self.assertIn("        http://127.0.0.1:9000/auth/email/verify?token=abc", lines)


if __name__ == "__main__":
    unittest.main()
