"""The policy pack: `pulumi preview --policy-pack policy`. Constructing the pack starts serving, so the policies
themselves live in `least_privilege.py`, which the tests import."""

from least_privilege import PACK_NAME, POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name=PACK_NAME, policies=POLICIES)
