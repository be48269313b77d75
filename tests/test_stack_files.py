"""Reading stack files as a new user writes them: encodings, duplicate keys, keys in the wrong place."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SUB_A, TENANT
from typer.testing import CliRunner

from backline_access.cli import app
from backline_access.config.problems import ConfigError
from backline_access.config.source import handed_over_config, load_config

runner = CliRunner()

GOOD = f"""config:
  backline-access:tenantId: {TENANT}
  backline-access:subscriptions:
    - {SUB_A}
"""


def plan(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["plan", "--config", str(path)])
    return result.exit_code, result.stderr


def test_a_stack_file_saved_as_utf16_by_powershell_exits_2_naming_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.win.yaml"
    path.write_bytes(GOOD.encode("utf-16"))  # with the BOM, as PowerShell's '>' writes it
    code, stderr = plan(path)
    assert code == 2
    assert f"{path}: is encoded as UTF-16 (what Windows PowerShell's '>' and Out-File write)" in stderr
    assert f"fix: save it as UTF-8: iconv -f UTF-16LE -t UTF-8 {path} > fixed.yaml" in stderr
    assert "Traceback" not in stderr


def test_a_stack_file_in_latin1_exits_2_with_the_offending_byte(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.latin.yaml"
    path.write_bytes(("# Zürich\n" + GOOD).encode("latin-1"))
    code, stderr = plan(path)
    assert code == 2
    assert f"{path}: is not valid UTF-8 (byte 0xfc at offset 3)" in stderr


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.bom.yaml"
    path.write_bytes(GOOD.encode("utf-8-sig"))
    assert plan(path)[0] == 0


def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dup.yaml"
    path.write_text(GOOD + f"  backline-access:aksRequireAzureRbac: true\n  backline-access:tenantId: {TENANT}\n")
    code, stderr = plan(path)
    assert code == 2
    assert f"{path}:6: repeats the key 'backline-access:tenantId' of line 2 in the same mapping" in stderr
    assert "ruamel" not in stderr and "http" not in stderr


def test_our_keys_under_another_namespace_are_named_with_the_key_meant() -> None:
    with pytest.raises(ConfigError) as error:
        load_config({"backline:tenantId": TENANT, "backline:subscriptions": f'["{SUB_A}"]'})
    rendered = [problem.render() for problem in error.value.problems]
    assert rendered == [
        "tenantId: is required\n    fix: az account show --query tenantId -o tsv",
        "backline:subscriptions: is in namespace 'backline', which this program never reads; did you mean "
        "'backline-access:subscriptions'?\n    fix: rename the key to backline-access:subscriptions",
        "backline:tenantId: is in namespace 'backline', which this program never reads; did you mean "
        "'backline-access:tenantId'?\n    fix: rename the key to backline-access:tenantId",
    ]


def test_provider_settings_are_not_mistaken_for_ours() -> None:
    config = load_config(
        {
            "backline-access:tenantId": TENANT,
            "backline-access:subscriptions": f'["{SUB_A}"]',
            "azuread:tenantId": TENANT,
        }
    )
    assert config.tenant_id == TENANT


def test_keys_beside_config_instead_of_under_it_are_pointed_at(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.flat.yaml"
    path.write_text(f"backline-access:tenantId: {TENANT}\nsubscriptions: [{SUB_A}]\nconfig: {{}}\n")
    with pytest.raises(ConfigError) as error:
        handed_over_config(path)
    assert [problem.render() for problem in error.value.problems] == [
        "backline-access:tenantId: is at the top level of the stack file, beside 'config:'; the program reads only "
        "keys under 'config:'\n    fix: indent it under 'config:' as backline-access:tenantId",
        "subscriptions: is at the top level of the stack file, beside 'config:'; the program reads only keys under "
        "'config:'\n    fix: indent it under 'config:' as backline-access:subscriptions",
    ]


def test_a_stack_whose_config_lives_in_pulumi_esc_says_the_offline_plan_cannot_see_it(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.esc.yaml"
    path.write_text("environment:\n  - backline/prod\n")
    code, stderr = plan(path)
    assert code == 2
    assert (
        'environment: ["backline/prod"] imports Pulumi ESC environment(s), which only the Pulumi CLI resolves' in stderr
    )
    assert "tenantId: is required" not in stderr


def test_an_unknown_stack_lists_the_stacks_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(GOOD)
    (tmp_path / "Pulumi.dev.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "--stack", "nope"])
    assert result.exit_code == 2
    assert f"--stack: 'nope' has no stack file Pulumi.nope.yaml in {tmp_path}; the stacks there: dev, prod" in (
        result.stderr
    )
    assert "fix: backline-access plan --stack dev" in result.stderr


def test_a_broken_json_list_from_pulumi_config_set_says_invalid_json() -> None:
    # `pulumi config set backline-access:subscriptions '[a, b]'` stores that text as a plain string.
    with pytest.raises(ConfigError) as error:
        load_config({"backline-access:tenantId": TENANT, "backline-access:subscriptions": f"[{SUB_A}, x]"})
    [problem] = error.value.problems
    assert problem.render().startswith(
        f"subscriptions: '[{SUB_A}, x]' is not valid JSON (Expecting ',' delimiter at character 10); "
        "write it as a YAML list"
    )


def test_a_tenant_in_braces_is_a_guid_problem_not_a_json_one() -> None:
    with pytest.raises(ConfigError) as error:
        load_config({"backline-access:tenantId": "{" + TENANT + "}", "backline-access:subscriptions": f'["{SUB_A}"]'})
    [problem] = error.value.problems
    assert "has braces" in problem.message
