"""Serve a fake Azure by hand, from the repository root (after the test install, which brings trustme):

.venv/bin/python -m tests.fake_azure --estate FILE [--port N]
    serves until Ctrl-C, and prints the environment that points the program or the CLI at it;
.venv/bin/python -m tests.fake_azure --estate FILE -- COMMAND [ARGS...]
    serves while COMMAND runs, signed in as the estate's first client (ARM_CLIENT_ID/ARM_CLIENT_SECRET), and
    exits with COMMAND's exit code. The README's "Try verify without Azure" runs verify this way on
    examples/demo/estate.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .estate import Estate
from .server import FakeAzureServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--estate", type=Path, required=True, help="JSON estate (see tests/fake_azure/estate.py)")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--resource-graph-down", action="store_true", help="answer Resource Graph with 503")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]: run it against the fake")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    ca_file = Path(tempfile.mkdtemp()) / "fake-azure-ca.pem"
    with FakeAzureServer(Estate.load(args.estate), ca_file, port=args.port) as fake:
        fake.faults.latency = args.latency
        fake.faults.resource_graph_down = args.resource_graph_down
        env = {
            "ARM_METADATA_HOSTNAME": fake.host,
            "REQUESTS_CA_BUNDLE": str(ca_file),
            "SSL_CERT_FILE": str(ca_file),
        }
        client, secret = next(iter(fake.estate.clients.items()), ("", ""))
        if command:
            print(f"fake Azure for tenant {fake.estate.tenant} on {fake.url}; running {' '.join(command)}", flush=True)
            others = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}
            signed_in = {"ARM_CLIENT_ID": client, "ARM_CLIENT_SECRET": secret} if client else {}
            sys.exit(subprocess.call(command, env={**others, **env, **signed_in}))
        print(f"fake Azure for tenant {fake.estate.tenant} on {fake.url}")
        print("export " + " ".join(f"{key}={value}" for key, value in env.items()))
        for name in fake.estate.clients:
            print(f"# a client that may sign in: ARM_CLIENT_ID={name} ARM_CLIENT_SECRET=<its secret in the estate>")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
