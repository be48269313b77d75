"""Serve a fake Azure by hand: `python -m tests.fake_azure --estate FILE --port N` from the repository root.

It prints the environment that points the program (`pulumi preview` under the mock engine, or the CLI) at it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .estate import Estate
from .server import FakeAzureServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--estate", type=Path, required=True, help="JSON estate (see tests/fake_azure/estate.py)")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--resource-graph-down", action="store_true", help="answer Resource Graph with 503")
    args = parser.parse_args()
    ca_file = Path(tempfile.mkdtemp()) / "fake-azure-ca.pem"
    with FakeAzureServer(Estate.load(args.estate), ca_file, port=args.port) as fake:
        fake.faults.latency = args.latency
        fake.faults.resource_graph_down = args.resource_graph_down
        print(f"fake Azure for tenant {fake.estate.tenant} on {fake.url}")
        print(f"export ARM_METADATA_HOSTNAME={fake.host} REQUESTS_CA_BUNDLE={ca_file} SSL_CERT_FILE={ca_file}")
        for client in fake.estate.clients:
            print(f"# a client that may sign in: ARM_CLIENT_ID={client} ARM_CLIENT_SECRET=<its secret in the estate>")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
