"""The message catalog: complete in every language, and each text really in its language."""

from __future__ import annotations

import json
import string

import pytest

from chalicelib.i18n import Catalog, UnknownText, language_of
from chalicelib.i18n.catalog import MESSAGES_DIR, CatalogError


def _sample_params(template: str) -> dict[str, object]:
    return {name: (2 if name == "count" else 7) for _, name, _, _ in string.Formatter().parse(template) if name}


def _every_text(catalog: Catalog, language: str) -> list[tuple[str, str]]:
    texts = []
    for key, template in catalog.variants_all(language).items():
        for count in (1, 2):
            params = {**_sample_params(template), **({"count": count} if "{count}" in template else {})}
            texts.append((key, catalog.text(key, language, **params)))
    return texts


def test_every_language_has_every_key_with_the_same_placeholders():
    catalog = Catalog()
    assert set(catalog.languages) >= {"en", "zh"}
    for language in catalog.languages:
        assert catalog.variants_all(language).keys() == catalog.variants_all("en").keys()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_each_text_is_written_in_its_language(language):
    # No English system text reaches a Chinese customer, and no Chinese one an English customer.
    for key, text in _every_text(Catalog(), language):
        assert language_of(text) == language, f"{language}.json {key}: {text!r}"


def test_plural_forms_and_placeholders():
    catalog = Catalog()
    assert catalog.text("routing.queued", "en", position=3, count=1).endswith("about 1 minute.")
    assert catalog.text("routing.queued", "en", position=3, count=5).endswith("about 5 minutes.")
    assert "第 3 位" in catalog.text("routing.queued", "zh", position=3, count=5)


def test_an_unknown_language_gets_the_company_default():
    assert Catalog("zh").text("survey.thanks", "fr") == Catalog().text("survey.thanks", "zh")
    assert Catalog().text("survey.thanks", None) == "Thank you for your feedback!"
    assert Catalog("xx").default_language == "en"


def test_an_unknown_key_is_an_error():
    with pytest.raises(UnknownText):
        Catalog().text("no.such.text", "en")


@pytest.mark.parametrize(("french", "error"), [
    ({"survey.thanks": "Merci !"}, "fr.json: missing"),
    ({"routing.agent_joined": "{agent} a rejoint la conversation."}, "placeholders"),
])
def test_an_incomplete_translation_is_refused(tmp_path, french, error):
    reference = json.loads((MESSAGES_DIR / "en.json").read_text(encoding="utf-8"))
    (tmp_path / "en.json").write_text(json.dumps(reference), encoding="utf-8")
    complete = "routing.agent_joined" in french
    (tmp_path / "fr.json").write_text(json.dumps({**reference, **french} if complete else french), encoding="utf-8")
    with pytest.raises(CatalogError, match=error):
        Catalog(directory=tmp_path)


@pytest.mark.parametrize(("text", "language"), [
    ("我的快递到哪了", "zh"), ("where is my parcel", "en"), ("我的order到哪了", "zh"),
    ("my 快递 is late again today", "en"), ("4", None), ("ok", None), ("👍", None), ("", None), (None, None),
])
def test_language_of_a_customer_message(text, language):
    assert language_of(text) == language
