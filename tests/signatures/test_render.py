"""Sandboxed templates: tokens render, and nothing reaches Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.signatures.render import (
    AgentFacts,
    ChannelFacts,
    TemplateError,
    check_template,
    from_name,
    render,
)
from tests.conftest import run_cli, write_config

CHANNEL = ChannelFacts("support", "support@acme.example", "Acme")
JANE = AgentFacts("Jane", "Doe", "jane@acme.example")

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ agent.__class__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ self._TemplateReference__context }}",
    "{{ range(10**9)|list }}",
    "{{ 'x' * 10**7 }}",
    "{% if %}",
]


def test_tokens_render() -> None:
    text = "{{ agent.full_name }} ({{ agent.first_name }} {{ agent.last_name }}), " + (
        "{{ channel.company }} <{{ channel.address }}> [{{ channel.name }}]"
    )
    assert render(text, CHANNEL, JANE) == (
        "Jane Doe (Jane Doe), Acme <support@acme.example> [support]"
    )


def test_html_is_escaped() -> None:
    evil = ChannelFacts("support", "support@acme.example", "<script>x</script>")
    assert render("<b>{{ channel.company }}</b>", evil, JANE, html=True) == (
        "<b>&lt;script&gt;x&lt;/script&gt;</b>"
    )


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_template_errors(source: str) -> None:
    with pytest.raises(TemplateError):
        check_template(source, CHANNEL)


@pytest.mark.parametrize("source", ESCAPES)
def test_render_never_leaks_or_crashes(source: str) -> None:
    try:
        out = render(source, CHANNEL, JANE)
    except TemplateError:
        return
    assert "class" not in out
    assert "module" not in out


def test_from_name_modes() -> None:
    template = "{{ agent.first_name }} from {{ channel.company }}"
    assert from_name("agent_and_company", template, CHANNEL, JANE) == "Jane from Acme"
    assert from_name("company", template, CHANNEL, JANE) == "Acme"
    assert from_name("agent_and_company", "{{ ''.__class__.__mro__ }}", CHANNEL, JANE) == "Acme"


def test_check_config_names_the_bad_template(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    text = config.read_text().replace(
        'address = "support@acme.example"\n',
        'address = "support@acme.example"\nsignature_text = "{{ \'\'.__class__.__mro__ }}"\n',
    )
    config.write_text(text)
    result = run_cli(config, "check-config", check=False)
    assert result.returncode == 2
    assert "channels[0].signature_text" in result.stderr
    assert "not allowed in a template" in result.stderr or "unsafe" in result.stderr
    assert "Traceback" not in result.stderr
