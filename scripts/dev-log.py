"""Makes the functions' JSON log lines readable in `make dev`: scripts/dev.sh pipes the output of
`cargo lambda watch` through this.

The functions log as they do in AWS, one JSON object a line (shared/src/telemetry.rs). This prints
one short line per request (time, function, method, route, status, latency, request id), errors and
warnings with their message and fields, other lines of ours shortly, and embedded metrics as
`metric <name>`. Any other line (cargo lambda's own, a panic's message) passes unchanged.
Colours only on a terminal, and never with NO_COLOR set. KITCHEN_LOG_FORMAT=json in scripts/dev.sh
leaves the raw lines instead.

Usage: cargo lambda watch ... | python3 scripts/dev-log.py
"""

import json
import os
import signal
import sys

RESET = "\033[0m"
DIM = "\033[2m"
BOLD = "\033[1m"
RED = "\033[31m"
GREEN = "\033[32m"
YELLOW = "\033[33m"
CYAN = "\033[36m"

LEVEL_COLOURS = {"ERROR": RED, "WARN": YELLOW, "INFO": "", "DEBUG": DIM, "TRACE": DIM}

# Fields every line has, or that the short line shows in a place of its own.
SHOWN_APART = {"timestamp", "level", "message", "function", "request_id", "trace_id"}


class Formatter:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, text: str, *codes: str) -> str:
        codes = tuple(code for code in codes if code)
        if not self.colour or not codes:
            return text
        return "".join(codes) + text + RESET

    def line(self, raw: str) -> str:
        """The readable form of one line of output (without its newline); `raw` unless it is ours."""
        if not raw.startswith("{"):
            return raw
        try:
            record = json.loads(raw)
        except ValueError:
            return raw
        if not isinstance(record, dict):
            return raw
        if "_aws" in record:
            return self.metric(record, raw)
        if isinstance(record.get("timestamp"), str) and isinstance(record.get("level"), str):
            if record.get("message") == "request" and "status" in record:
                return self.request(record)
            return self.event(record)
        return raw

    def request(self, record: dict) -> str:
        status = record.get("status")
        status_colour = GREEN
        if isinstance(status, int):
            if status >= 500:
                status_colour = RED
            elif status >= 400:
                status_colour = YELLOW
            elif status >= 300:
                status_colour = CYAN
        latency = record.get("latency_ms")
        latency = f"{latency:.1f} ms" if isinstance(latency, (int, float)) else "? ms"
        parts = [
            self.time(record),
            self.function(record),
            f"{record.get('method', '?'):<6}",
            str(record.get("route", "?")),
            self.paint(str(status), status_colour, BOLD),
            latency,
        ]
        if record.get("cold_start") is True:
            parts.append(self.paint("cold start", CYAN))
        if record.get("request_id"):
            parts.append(self.paint(str(record["request_id"]), DIM))
        return " ".join(parts)

    def event(self, record: dict) -> str:
        level = record["level"].upper()
        colour = LEVEL_COLOURS.get(level, "")
        fields = " ".join(
            f"{key}={value_text(value)}" for key, value in record.items() if key not in SHOWN_APART
        )
        parts = [
            self.time(record),
            self.function(record),
            self.paint(f"{level:<5}", colour, BOLD if level in ("ERROR", "WARN") else ""),
            self.paint(str(record.get("message", "")), colour),
        ]
        if fields:
            parts.append(self.paint(fields, colour if level in ("ERROR", "WARN") else DIM))
        if level in ("ERROR", "WARN") and record.get("request_id"):
            parts.append(self.paint(str(record["request_id"]), DIM))
        return " ".join(parts)

    def metric(self, record: dict, raw: str) -> str:
        try:
            directive = record["_aws"]["CloudWatchMetrics"][0]
            names = [metric["Name"] for metric in directive["Metrics"]]
            dimensions = sorted({name for names_set in directive["Dimensions"] for name in names_set})
            stamp = record["_aws"].get("Timestamp")
        except (KeyError, IndexError, TypeError):
            return raw
        described = " ".join(
            f"{name}={record[name]}" for name in dimensions if name != "Service" and name in record
        )
        clock = self.paint(millis_time(stamp), DIM) if isinstance(stamp, int) else ""
        text = f"metric {', '.join(names)}" + (f" {described}" if described else "")
        return " ".join(part for part in (clock, self.paint(text, DIM)) if part)

    def time(self, record: dict) -> str:
        # 2026-05-01T12:34:56.123456Z -> 12:34:56.123 (UTC, as logged)
        stamp = str(record.get("timestamp", ""))
        clock = stamp[11:23] if len(stamp) >= 23 and stamp[10] == "T" else stamp
        return self.paint(clock, DIM)

    def function(self, record: dict) -> str:
        return self.paint(f"{str(record.get('function', '?')):<16}", CYAN)


def value_text(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value
    return json.dumps(value, ensure_ascii=False)


def millis_time(millis: int) -> str:
    seconds, ms = divmod(millis, 1000)
    hours, rest = divmod(seconds % 86400, 3600)
    return f"{hours:02}:{rest // 60:02}:{rest % 60:02}.{ms:03}"


def colour_wanted(stream) -> bool:
    # https://no-color.org: any non-empty NO_COLOR turns colours off.
    return stream.isatty() and not os.environ.get("NO_COLOR")


def main() -> None:
    # Ctrl-C reaches the whole pipeline; this end keeps reading until cargo lambda watch and the
    # functions have printed their last line and closed the pipe, so nothing of theirs is lost
    # and none of them writes to a closed pipe while stopping.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    formatter = Formatter(colour_wanted(sys.stdout))
    out = sys.stdout
    for raw in iter(sys.stdin.buffer.readline, b""):
        text = raw.decode("utf-8", errors="replace")
        ending = "\n" if text.endswith("\n") else ""
        text = text[:-1] if ending else text
        try:
            shown = formatter.line(text)
        except Exception:  # a line this cannot read is shown as it came
            shown = text
        out.write(shown + ending)
        out.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # The reader went away (`make dev | head`): stop without a traceback, and without another
        # one when Python flushes stdout on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
