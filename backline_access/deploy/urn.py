"""Pulumi URNs read the engine's way, in one place.

A URN is `urn:pulumi:<stack>::<project>::<qualified type>::<name>` (pulumi/pulumi v3.259.0
`sdk/go/common/resource/urn/urn.go` `New`, lines 80-93). The qualified type is the parent's qualified type, `$`,
then the resource's own type (`pkg/resource/deploy/deployment.go` `generateURN`, 796-805: the parent's whole
chain, the root stack left out). The name is everything after the third `::` and may itself contain `::`
(`urn.go` `Name`, 185-187, and `urn_test.go`'s "a-name-with::many::name::separators"); stacks, projects and type
tokens never do.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "urn:pulumi:"
DELIMITER = "::"
TYPE_DELIMITER = "$"


@dataclass(frozen=True)
class Urn:
    stack: str
    project: str
    qualified_type: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Urn:
        if not text.startswith(PREFIX):
            raise ValueError(f"not a Pulumi URN: {text!r}")
        parts = text[len(PREFIX) :].split(DELIMITER, 3)
        if len(parts) != 4:
            raise ValueError(f"not a Pulumi URN: {text!r}")
        stack, project, qualified_type, name = parts
        return cls(stack, project, qualified_type, name)

    @property
    def type(self) -> str:
        """The resource's own type: the last segment of the qualified type."""
        return self.qualified_type.rsplit(TYPE_DELIMITER, 1)[-1]

    @property
    def parent_type(self) -> str:
        """The parent's qualified type ("" for a resource whose parent is the stack)."""
        head, _, _ = self.qualified_type.rpartition(TYPE_DELIMITER)
        return head

    def child(self, type_: str, name: str) -> Urn:
        """The URN of a child of this resource, as the engine makes it."""
        return Urn(self.stack, self.project, f"{self.qualified_type}{TYPE_DELIMITER}{type_}", name)

    def __str__(self) -> str:
        return f"{PREFIX}{self.stack}{DELIMITER}{self.project}{DELIMITER}{self.qualified_type}{DELIMITER}{self.name}"
