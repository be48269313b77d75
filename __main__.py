"""Entry point of the Pulumi program: all logic lives in the backline_access package."""

from backline_access.deploy import run

run()
