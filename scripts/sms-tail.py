"""Prints each SMS that moto records, so `make dev` shows what a customer would receive.

moto keeps sent SMS in its state dump (GET /moto-api/data.json, under sns.SMS); this polls it.
Usage: python3 scripts/sms-tail.py PORT [INTERVAL_SECONDS]
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
                sms = json.load(resp).get("sns", {}).get("SMS", [])
        except (OSError, ValueError):
            # moto restarting or stopping: try again, the caller decides when to end.
            sms = []
        for item in sms:
            key = item.get("message_id") or json.dumps(item, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            print(f"[sms] to {item.get('phone_number')}: {item.get('message')}", flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
