"""The skill fields the `buildd` tool forwards are read from the spec's `SkillFields`, less the two the real tool
never sends (mcp-tools.ts buildSkillBody): a field the spec adds is forwarded without a second list here."""

from __future__ import annotations

from contracts.resources import properties_of
from contracts.spec import load_spec
from mockserver.mcp.actions.ws import _SKILL_FIELDS, _skill_body

SKILL_FIELDS = set(properties_of(load_spec(), {"$ref": "#/components/schemas/SkillFields"}))
NEVER_SENT = {"metadata", "accountId"}


def test_an_update_forwards_every_skill_field_but_the_two_the_tool_never_sends() -> None:
    params = {field: f"value of {field}" for field in SKILL_FIELDS} | {"defaultBackend": "codex", "slug": "s"}
    assert set(_skill_body(params)) == SKILL_FIELDS - NEVER_SENT
    assert _skill_body({"defaultBackend": "gpt"}) == {}  # anything but claude, codex or a clearing value is dropped
    assert _skill_body({"defaultBackend": ""}) == {"defaultBackend": None}


def test_a_register_forwards_the_agent_config_fields() -> None:
    assert set(_SKILL_FIELDS) - {"description"} == {
        "model",
        "allowedTools",
        "canDelegateTo",
        "background",
        "maxTurns",
        "color",
        "mcpServers",
        "requiredEnvVars",
        "connectorRefs",
        "isRole",
    }
