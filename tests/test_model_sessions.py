"""The one ONNX loader of the app and eval: metadata read, names and shapes checked."""

import pytest

from tests.eval.tiny_models import JUDGE_CATEGORIES, build_judge, build_model_dir, metadata
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, JUDGE_FILE, ModelFileError
from visualizer.model_sessions import (
    CPU_PROVIDER,
    check_encoder,
    check_generator,
    check_judge,
    open_model,
)


def test_a_model_directory_opens_on_the_cpu_with_its_metadata(tmp_path):
    models = build_model_dir(tmp_path / "models")
    encoder = open_model(models / ENCODER_FILE, threads=1)
    assert encoder.name == ENCODER_FILE and encoder.providers[0] == CPU_PROVIDER
    assert encoder.warning is None
    assert encoder.metadata.categories == metadata().categories
    check_encoder(encoder)
    check_generator(open_model(models / GENERATOR_FILE), encoder)
    check_judge(open_model(models / JUDGE_FILE))


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_a_provider_this_machine_lacks_falls_back_to_the_cpu_and_says_so(tmp_path):
    models = build_model_dir(tmp_path / "models")
    encoder = open_model(models / ENCODER_FILE, ("NoSuchExecutionProvider", CPU_PROVIDER))
    assert encoder.providers[0] == CPU_PROVIDER
    assert encoder.warning == (
        "NoSuchExecutionProvider is not usable here (fell back to CPUExecutionProvider)"
    )


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match=r"^judge.onnx: missing from "):
        open_model(tmp_path / JUDGE_FILE)


def test_a_judge_whose_features_disagree_with_its_metadata_is_refused(tmp_path):
    path = tmp_path / JUDGE_FILE
    build_judge(path, metadata(categories=JUDGE_CATEGORIES, feature_dim=5))  # features: 3 wide
    with pytest.raises(ModelFileError) as caught:
        check_judge(open_model(path))
    assert str(caught.value) == (
        "judge.onnx expects features [*, 3] but its contract says features [5]"
    )
