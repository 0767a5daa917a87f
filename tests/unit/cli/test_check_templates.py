"""`seal check` and templated data: a literal in template.data fails the check like a
plaintext Secret; a template reading the sealed items passes."""

from __future__ import annotations

import yaml

from .conftest import SECRET_YAML, KeyFiles, Seal


def test_a_literal_in_template_data_fails_and_a_template_passes(
    run: Seal, key_files: KeyFiles
) -> None:
    sealed = run(["secret", "--cert", str(key_files.public)], input=SECRET_YAML)
    assert sealed.exit_code == 0, sealed.output
    doc = yaml.safe_load(sealed.stdout)
    doc["spec"]["template"]["data"] = {"dsn": "postgres://{{ user }}:{{ password }}@db/app",
                                       "copy": "hunter2"}
    (run.workdir / "s.yaml").write_text(yaml.safe_dump(doc))
    result = run(["check", "s.yaml"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert "SealedSecret prod/db item 'copy': the template is plaintext in Git" in lines[0]
    assert "hunter2" not in result.output
    del doc["spec"]["template"]["data"]["copy"]
    (run.workdir / "s.yaml").write_text(yaml.safe_dump(doc))
    assert run(["check", "s.yaml"]).exit_code == 0
