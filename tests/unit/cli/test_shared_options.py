"""What both CLIs share: the one duration parser and option type, exit codes, Ctrl-C."""

from __future__ import annotations

import datetime

import click
import click.testing
import pytest

from controller import settings
from sealer import durations
from sealer.cli import options


@pytest.mark.parametrize(("text", "seconds"), [
    ("720h", 720 * 3600), ("5m", 300), ("1h30m", 5400), ("45s", 45), ("0", 0),
    ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800), ("1m30s", 90), (" 5m ", 300),
])
def test_go_style_durations_parse(text: str, seconds: float) -> None:
    assert durations.parse(text) == datetime.timedelta(seconds=seconds)
    assert settings.parse_duration(text) == durations.parse(text)


@pytest.mark.parametrize("text", ["10", "h", "5x", "-1h", "1h5", "m5", "5 m", "1e3s"])
def test_bad_durations_are_refused_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        durations.parse(text)


def test_a_bare_number_is_seconds_only_where_asked_for() -> None:
    assert durations.parse("300", bare_seconds=True) == datetime.timedelta(seconds=300)
    with pytest.raises(ValueError, match="needs a unit"):
        durations.parse("300")


def test_the_option_type_takes_5m_and_300_and_refuses_garbage_as_a_usage_error() -> None:
    @click.command()
    @click.option("--timeout", type=options.SECONDS_OR_DURATION, default="5m")
    def show(timeout: datetime.timedelta) -> None:
        click.echo(timeout.total_seconds())

    runner = click.testing.CliRunner()
    assert runner.invoke(show, []).output == "300.0\n"
    assert runner.invoke(show, ["--timeout", "90"]).output == "90.0\n"
    assert runner.invoke(show, ["--timeout", "1h"]).output == "3600.0\n"
    bad = runner.invoke(show, ["--timeout", "soon"])
    assert bad.exit_code == 2
    assert "invalid duration 'soon'" in bad.output
    with pytest.raises(click.BadParameter, match="needs a unit"):
        options.DURATION.convert("300", None, None)


def test_the_exit_code_table_covers_every_error_class() -> None:
    from sealer import errors

    documented = {code for code, _meaning in options.EXIT_CODES}
    classes = [errors.UsageError, errors.ManifestError, errors.KeyMaterialError,
               errors.UnsealError, errors.PolicyError, errors.ClusterError, errors.SealopsError]
    assert {cls.exit_code for cls in classes} <= documented
    assert "Exit codes:" in options.EXIT_CODES_EPILOG


def test_ctrl_c_exits_130_in_seal_as_in_sealops() -> None:
    from sealer.cli import app

    @click.command("slow")
    def slow() -> None:
        raise KeyboardInterrupt

    result = click.testing.CliRunner().invoke(app.SealGroup(commands={"slow": slow}), ["slow"])
    assert result.exit_code == 130
    assert result.stderr == "aborted\n"
