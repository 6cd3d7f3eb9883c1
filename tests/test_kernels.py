"""The kernel class (homl_rl.kernels) and the one-row MatMul replica of each class.

The replicas are checked element by element against arrays TensorFlow computed on a
machine of each class (tests/data/row_kernels_<class>.npz: the project's fingerprint
script's outputs, x86-avx2 from an AMD EPYC with AVX2 + FMA and no AVX-512, x86-avx512
from an Intel Xeon with AVX-512, TF 2.15.1; TF 2.21.0 gave the same arrays on both), so
each class's replica is tested on every machine, whatever its own class.
"""

from pathlib import Path

import numpy as np
import pytest

from homl_rl import kernels
from homl_rl.engines import eager_replica as replica
from homl_rl.engines.policy_gradients import BernoulliHead, replica_forward

DATA = Path(__file__).parent / "data"


def arrays_of(kernel_class):
    return np.load(DATA / f"row_kernels_{kernel_class}.npz")


def row_outputs(row, inputs):
    """The fingerprint's one-row MatMuls, as ``row`` computes them (a bias of -0.0 adds nothing,
    signed zeros included)."""
    outputs = {}
    for k, n in kernels.MATMUL_SHAPES:
        w = inputs[f"w {k}x{n}"]
        outputs[f"matmul 1x{k} @ {k}x{n}"] = row.dense(inputs[f"x1 {k}x{n}"], w,
                                                       np.full(n, -0.0, np.float32))
        if row.supports_units(n):  # AVX-512's tails of 5 to 7 values are not replicated
            outputs[f"matmul_T 1x{n} @ ({k}x{n}).T"] = row.matmul_transposed(inputs[f"dy {k}x{n}"], w)
    return outputs


@pytest.mark.parametrize("kernel_class", kernels.CLASSES)
def test_each_class_replica_gives_that_class_one_row_matmuls_bit_for_bit(kernel_class):
    measured = arrays_of(kernel_class)
    row = replica.ROW_MATMULS[kernel_class]
    ours = row_outputs(row, kernels.probe_inputs())
    for name, array in ours.items():
        assert array.tobytes() == measured[name].tobytes(), (kernel_class, name)
    skipped = [f"{k}x{n}" for k, n in kernels.MATMUL_SHAPES if not row.supports_units(n)]
    assert skipped == {"x86-avx512": ["4x5", "4x100", "100x50"], "x86-avx2": []}[kernel_class]


@pytest.mark.parametrize("kernel_class", kernels.CLASSES)
def test_each_class_replica_gives_that_class_policy_gradient_tape(kernel_class):
    # the fingerprint's tape: play_one_step's net (4 -> 5 relu -> 1 sigmoid) at
    # set_random_seed(42), one observation, binary cross-entropy against 1 (action 0)
    measured = arrays_of(kernel_class)
    weights = [measured[f"input pg initial w[{i}]"] for i in range(4)]
    x = measured["input pg obs"]
    row = replica.ROW_MATMULS[kernel_class]
    hiddens, logits = replica_forward(x, weights, row)
    grads = row.dense_gradients(x, weights[0::2], hiddens, BernoulliHead.dlogits(logits, np.array([0])))
    for i, grad in enumerate(grads):
        assert grad.reshape(measured[f"pg tape grad[{i}]"].shape).tobytes() == \
            measured[f"pg tape grad[{i}]"].tobytes(), (kernel_class, i)


def test_the_classes_really_differ_so_the_replicas_are_told_apart():
    avx512, avx2 = (row_outputs(replica.ROW_MATMULS[name], kernels.probe_inputs())
                    for name in ("x86-avx512", "x86-avx2"))
    measured = arrays_of("x86-avx2")
    differing = [name for name in avx512 if avx512[name].tobytes() != measured[name].tobytes()]
    assert len(differing) >= 8  # AVX-512's replica is wrong on most of the AVX2 machine's rows
    assert all(avx2[name].tobytes() == measured[name].tobytes() for name in avx2)


def test_probe_inputs_are_the_fingerprint_inputs():
    inputs = kernels.probe_inputs()
    measured = arrays_of("x86-avx2")
    assert inputs["x1 4x5"].shape == (1, 4) and inputs["image"].shape == (1, 24, 24, 4)
    # the recorded AVX2 arrays were computed from these very inputs
    row = replica.ROW_MATMULS["x86-avx2"]
    assert row.matmul_transposed(inputs["dy 100x50"], inputs["w 100x50"]).tobytes() == \
        measured["matmul_T 1x50 @ (100x50).T"].tobytes()


def test_classify_names_each_family_and_one_class_only_when_all_agree():
    avx2 = {family: known["x86-avx2"] for family, known in kernels.KNOWN.items()}
    assert kernels.class_of(kernels.classify(avx2)) == "x86-avx2"
    mixed = dict(avx2, matmul_row=kernels.KNOWN["matmul_row"]["x86-avx512"])
    families = kernels.classify(mixed)
    assert families["matmul_row"] == "x86-avx512" and families["conv2d"] == "x86-avx2"
    assert kernels.class_of(families) == "other"
    assert kernels.classify({"softmax": "0000000000000000"}) == {"softmax": "other"}


@pytest.mark.kernels
def test_this_process_has_a_class_and_records_it():
    families = kernels.kernel_families()
    assert set(families) == set(kernels.FAMILIES)
    record = kernels.kernels_record()
    assert record["class"] == kernels.kernel_class() in kernels.CLASSES + ("other",)
    assert ("families" in record) == (record["class"] == "other")


def test_results_lines_name_the_kernel_class_where_tensorflow_ran():
    from homl_rl.stack import stack_line
    from homl_rl.tf_setup import tf  # noqa: F401  (TensorFlow ran in this process)

    assert stack_line().endswith(f" (kernel class {kernels.kernel_class()})")


def test_kernels_module_prints_the_class_then_each_family():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "homl_rl.kernels"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == kernels.kernel_class()
    assert [line.split(":")[0].strip() for line in out[1:]] == list(kernels.FAMILIES)
