"""scripts/dev-log.py on what `make dev` printed: dev-output.txt is the raw output of a run
(KITCHEN_LOG_FORMAT=json), with cargo lambda's lines, the functions' JSON lines, their embedded
metrics, a 503 and the [sms] line. Run by scripts/test.sh: python3 -m unittest discover tests/scripts
"""

import importlib.util
import io
import os
import pathlib
import signal
import subprocess
import sys
import time
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "dev-log.py"
SAMPLE = pathlib.Path(__file__).with_name("dev-output.txt").read_text(encoding="utf-8")
LINES = SAMPLE.splitlines()

_spec = importlib.util.spec_from_file_location("dev_log", SCRIPT)
dev_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev_log)


def run(text: str, **env: str) -> str:
    """What the script prints for `text`, run as dev.sh runs it (stdout not a terminal here)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        input=text.encode("utf-8"),
        capture_output=True,
        env={**os.environ, **env},
        timeout=30,
        check=True,
    )
    return result.stdout.decode("utf-8")


def plain(line: str) -> str:
    return dev_log.Formatter(colour=False).line(line)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class DevLogTest(unittest.TestCase):
    def test_each_line_gives_one_line_and_every_line_not_ours_passes_unchanged(self):
        shown = run(SAMPLE).splitlines()
        self.assertEqual(len(shown), len(LINES))
        passed = [(line, out) for line, out in zip(LINES, shown) if not line.startswith("{")]
        self.assertGreater(len(passed), 20)
        for line, out in passed:
            self.assertEqual(out, line)
        self.assertIn("[sms] to +2348012345678: Order #FNR767 placed: ₦7,000.00", shown[-1])

    def test_a_request_is_one_short_line_with_time_function_method_route_status_latency_and_id(self):
        self.assertEqual(
            plain(LINES[6]),
            "20:09:51.853 dishes           GET    /health 200 21.1 ms cold start "
            "da5f812a-e80e-4c2b-b8db-a824e0db6d04",
        )
        self.assertEqual(
            plain(LINES[14]),
            "20:09:52.624 auth             POST   /auth/login 401 168.9 ms "
            "af516672-be50-42ed-b03b-6760368c6df0",
        )

    def test_a_5xx_shows_its_error_with_its_message_its_metric_and_its_request(self):
        error, metric, request = (plain(line) for line in LINES[26:29])
        self.assertEqual(
            error,
            '20:10:06.279 dishes           ERROR request failed status=503 error="service '
            "temporarily unavailable: table unavailable: request has timed out: operation timeout "
            '(all attempts including retries) occurred after 5s" 2766aec9-4805-48d3-93a1-3ad7da3a5ab5',
        )
        self.assertEqual(metric, "20:10:06.279 metric ServerErrors FunctionName=dishes")
        self.assertEqual(
            request,
            "20:10:06.279 dishes           GET    /dishes 503 5002.2 ms "
            "2766aec9-4805-48d3-93a1-3ad7da3a5ab5",
        )

    def test_other_lines_of_ours_are_short_with_their_fields(self):
        self.assertEqual(
            plain(LINES[20]),
            "20:09:53.373 paystack-webhook WARN  webhook with a missing or wrong signature refused "
            "signed=false 6f159e18-ed7f-44df-a23f-026d5ac4a86a",
        )
        sms = plain(LINES[47])
        self.assertTrue(sms.startswith("20:10:16.842 notifier         INFO  SMS sent "), sms)
        self.assertIn('sms="Order #FNR767 placed: ₦7,000.00 for Tue 1 Dec. Pay to confirm."', sms)
        self.assertNotIn("trace_id", sms)
        self.assertEqual(
            plain(LINES[48]), "20:10:16.842 metric SmsSent EventType=order.placed Recipient=customer"
        )

    def test_json_that_is_not_one_of_our_lines_passes_unchanged(self):
        for line in ['{"sent":1,"skipped":0,"failed":0}', '{"timestamp":"2026-12-01T20:10', "{}", '{"_aws":1}']:
            self.assertEqual(plain(line), line)

    def test_colours_only_on_a_terminal_and_never_with_no_color(self):
        self.assertNotIn("\033[", run(SAMPLE))
        saved = os.environ.pop("NO_COLOR", None)
        try:
            self.assertTrue(dev_log.colour_wanted(Terminal()))
            self.assertFalse(dev_log.colour_wanted(io.StringIO()))
            os.environ["NO_COLOR"] = "1"
            self.assertFalse(dev_log.colour_wanted(Terminal()))
        finally:
            os.environ.pop("NO_COLOR", None)
            if saved is not None:
                os.environ["NO_COLOR"] = saved
        coloured = dev_log.Formatter(colour=True).line(LINES[28])
        self.assertIn("\033[31m\033[1m503\033[0m", coloured)

    def test_ctrl_c_does_not_cut_the_output_short(self):
        # Ctrl-C reaches the whole pipeline; the script shows what cargo lambda watch prints while
        # stopping, and ends when the pipe closes.
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        process.stdin.write((LINES[6] + "\n").encode())
        process.stdin.flush()
        first = process.stdout.readline().decode()
        self.assertIn("GET    /health 200", first)
        process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        process.stdin.write((LINES[28] + "\n").encode())
        process.stdin.close()
        rest = process.stdout.read().decode()
        process.stdout.close()
        self.assertEqual(process.wait(timeout=10), 0)
        self.assertIn("GET    /dishes 503", rest)


if __name__ == "__main__":
    unittest.main()
