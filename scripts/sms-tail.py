"""Prints each SMS and each email that moto records, so `make dev` shows what a customer would
receive.

moto keeps sent SMS and emails in its state dump (GET /moto-api/data.json, under sns.SMS and
ses.Message); this polls it. Usage: python3 scripts/sms-tail.py PORT [INTERVAL_SECONDS]
"""

import json
import sys
import time
import urllib.request


def main() -> None:
    url = f"http://127.0.0.1:{int(sys.argv[1])}/moto-api/data.json"
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    seen: set[str] = set()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                state = json.load(resp)
        except (OSError, ValueError):
            # moto restarting or stopping: try again, the caller decides when to end.
            state = {}
        for item in state.get("sns", {}).get("SMS", []):
            key = item.get("message_id") or json.dumps(item, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            print(f"[sms] to {item.get('phone_number')}: {item.get('message')}", flush=True)
        for item in state.get("ses", {}).get("Message", []):
            key = "email:" + (item.get("id") or json.dumps(item, sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            print(format_email(item), flush=True)
        time.sleep(interval)


def format_email(item: dict) -> str:
    """An email as the dev log shows it: who to, the subject, and the body indented."""
    to = ", ".join(
        address for addresses in item.get("destinations", {}).values() for address in addresses
    )
    body = "\n".join("        " + line for line in str(item.get("body", "")).splitlines())
    return f"[email] to {to}: {item.get('subject')}\n{body}"


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
