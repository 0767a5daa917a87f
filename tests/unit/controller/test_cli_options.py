"""`sealops` options: JSON logs, durations, kubeconfig options after the subcommand, exit codes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from controller import cli, logformat


def test_json_log_lines_carry_time_level_logger_message_and_the_object() -> None:
    record = logging.LogRecord("kopf.objects", logging.WARNING, __file__, 1,
                               "Handler %r failed", ("unseal",), None)
    record.k8s_ref = {"kind": "SealedSecret", "namespace": "shop", "name": "db", "uid": "u"}
    entry = json.loads(logformat.JsonFormatter().format(record))
    assert entry["level"] == "warning" and entry["logger"] == "kopf.objects"
    assert entry["message"] == "Handler 'unseal' failed"
    assert entry["object"] == {"kind": "SealedSecret", "namespace": "shop", "name": "db"}
    assert entry["time"].endswith("Z")


def test_an_exception_is_one_json_line_too() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = logformat.JsonFormatter().format(record)
    assert "\n" not in text
    assert "RuntimeError: boom" in json.loads(text)["error"]


def test_log_level_and_format_configure_the_root_logger() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    hosts = logging.NullHandler()
    root.addHandler(hosts)
    try:
        logformat.configure(log_format="text", level="info")
        logformat.configure(log_format="json", level="warning")
        assert root.level == logging.WARNING
        ours = [h for h in root.handlers if isinstance(h.formatter, logformat.JsonFormatter)]
        texts = [h for h in root.handlers
                 if h.formatter is not None and h.formatter._fmt == logformat.TEXT_FORMAT]
        assert len(ours) == 1 and not texts  # the second call replaced the first
        assert hosts in root.handlers  # a host's handler stays
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


@pytest.mark.parametrize("where", ["before", "after"])
def test_kubeconfig_is_taken_before_or_after_the_subcommand_and_errors_name_it(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "absent")
    command = ["keys", "backup", "-n", "keys", "--out", str(tmp_path / "b")]
    argv = (["--kubeconfig", missing, *command] if where == "before"
            else [*command, "--kubeconfig", missing])
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        assert cli.main(argv) == 7
    finally:
        root.handlers[:] = saved
    assert capsys.readouterr().err == f"Error: kubeconfig {missing}: no such file\n"


def test_timeouts_take_durations_and_plain_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        for value in ("5m", "90", "1m30s"):
            assert cli.main(["build", str(tmp_path), "--timeout", value]) == 0
        capsys.readouterr()
        assert cli.main(["build", str(tmp_path), "--timeout", "soon"]) == 2
        assert "invalid duration 'soon'" in capsys.readouterr().err
        assert cli.main(["build", str(tmp_path), "--timeout", "0"]) == 2
        assert cli.main(["controller", "-n", "x", "--key-renewal", "10"]) == 2
    finally:
        root.handlers[:] = saved
