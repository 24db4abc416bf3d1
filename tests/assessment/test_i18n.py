"""Every message a report can show is translated into Spanish and Portuguese; country names come
from CLDR through Babel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from intercarga.assessment import framework, translator
from intercarga.assessment.i18n import LABELS, catalog, check_language
from intercarga.assessment.recommend import rules
from intercarga.errors import InvalidInputError

PACKAGE = Path(str(resources.files("intercarga.assessment")))


def _messages() -> set[str]:
    """Every msgid: from the templates and the code (``_``/``gettext``), the labels of the
    framework's ids, and the recommendation data."""
    method_map = [
        ("templates/**.html", "jinja2"),
        ("templates/**.md", "jinja2"),
        ("**.py", "python"),
    ]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            PACKAGE, method_map, options_map=options, keywords={"_": None, "gettext": None}
        )
        if isinstance(message, str)
    }
    found |= set(LABELS.values())
    table = rules()
    found |= {rule.action for rule in table.rule}
    found |= {precedent.title for precedent in table.precedent.values()}
    return found


def test_the_extraction_finds_the_reports_messages() -> None:
    messages = _messages()
    assert "Recommendations" in messages  # a template string
    assert "Desired" in messages  # a chart's string (charts.py)
    assert len(messages) > 80


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_message_is_translated(language: str) -> None:
    translated = catalog(language)
    missing = sorted(m for m in _messages() if not translated.get(m))
    assert missing == [], f"{language}.po lacks {len(missing)}: {missing[:5]}"


def test_every_label_of_the_framework_exists() -> None:
    fw = framework()
    for key in [*fw.criterion_ids(), *(layer.id for layer in fw.layer)]:
        assert key in LABELS
    for level in fw.level:
        assert LABELS[f"level.{level.value}"] == level.name


def test_country_names_come_from_babel_in_each_language() -> None:
    assert translator("en").country("BR") == "Brazil"
    assert translator("es").country("BR") == "Brasil"
    assert translator("pt").country("MX") == "México"
    assert translator("es").gettext("Recommendations") == "Recomendaciones"
    assert translator("pt").label("service") == "Serviço"


def test_an_unknown_language_names_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_language("fr")
    assert str(caught.value) == "language: unknown language 'fr'; valid: es, pt, en"
