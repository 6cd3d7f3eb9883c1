"""Which class of float kernels this process runs: ``x86-avx512``, ``x86-avx2`` or ``other``.

TensorFlow's CPU kernels round differently on different processors: oneDNN dispatches
its MatMuls and convolutions by instruction set, and a one-row MatMul fuses its
multiply-adds on an AVX-512 machine but not on an AVX2 one. A training number that
depends on those bits (a loss after a thousand Adam steps, a REINFORCE run's weights) is
therefore pinned per kernel class, and the policy-gradient fast engine has a replica for
each class (:data:`homl_rl.engines.eager_replica.ROW_MATMULS`).

The class is read off what TensorFlow computes, not off ``/proc/cpuinfo``: a few probes
per kernel family (:data:`FAMILIES`), hashed and looked up in :data:`KNOWN`, the hashes
recorded on a machine of each class. So ``ONEDNN_MAX_CPU_ISA`` (set before TensorFlow
starts) is honoured. On the Intel Xeon (AVX-512) we measured, ``ONEDNN_MAX_CPU_ISA=AVX2``
does not make an AVX2 machine of it: the one-row MatMul stays AVX-512's, a batch of 32
takes AVX2's bits on every probe but the one-output one, the softmax is neither class's,
and the convolutions are AVX2's on TensorFlow 2.21 only; that process's class is
``other``. :func:`kernel_families` tells each family's class;
:func:`kernel_class` names the process's class when every family agrees.

The probes' inputs are those of the project's fingerprint script (``default_rng(0)``,
drawn in its order), so the hashes of the AVX2 class could be recorded from that
script's output arrays on an AVX2 machine: every class's hashes are the same on
TensorFlow 2.15 and 2.21 (measured; only ``sigmoid`` differs between them, and it is no
probe).
"""

import functools
import hashlib

import numpy as np

MATMUL_SHAPES = ((4, 5), (5, 1), (4, 32), (32, 32), (32, 2), (8, 32), (32, 4), (4, 100), (100, 50))
"""``(inputs, units)`` of the probed MatMuls: the chapter's layer sizes"""

FAMILIES = ("matmul_row", "matmul_batch", "softmax", "conv2d")
"""The kernel families probed: a one-row MatMul and its transposed gradient (the eager
policy-gradient steps), a batch-of-32 MatMul (training steps), a one-row softmax, and a
3x3 convolution (image observations)."""

KNOWN = {
    # x86-avx512: our runs on an Intel Xeon (Sapphire Rapids, AVX-512) on TF 2.15.1 and
    # 2.21.0, the same class as the AMD EPYC (AVX-512) every earlier pin was made on (its
    # pins hold there). x86-avx2: the fingerprint script's arrays from an AMD EPYC with
    # AVX2 + FMA and no AVX-512, TF 2.15.1 and 2.21.0 (2026-12-07).
    "matmul_row": {"x86-avx512": "cf0a4b09328e395b", "x86-avx2": "05448194f4f58885"},
    "matmul_batch": {"x86-avx512": "51bdd6a38bb1b2dd", "x86-avx2": "445ff59fe22174a2"},
    "softmax": {"x86-avx512": "241bd0561017d712", "x86-avx2": "48c6b1742da16ee2"},
    "conv2d": {"x86-avx512": "f1ac1029e6150e3a", "x86-avx2": "75651515fb87d004"},
}
"""``family -> {class: hash of the family's probe outputs}``, each measured on a machine of
that class (:func:`probe_hashes` there)."""

CLASSES = ("x86-avx512", "x86-avx2")
"""The kernel classes whose numbers this project has measured."""

OTHER = "other"
"""The class of a process whose kernels match no measured class."""


def probe_inputs():
    """The probes' input arrays, drawn from ``np.random.default_rng(0)`` in the fingerprint
    script's order (arrays it draws but no probe uses are drawn too, to keep the order)."""
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.normal(size=shape).astype(np.float32)

    inputs = {}
    for k, n in MATMUL_SHAPES:
        inputs[f"x1 {k}x{n}"], inputs[f"xb {k}x{n}"], inputs[f"w {k}x{n}"] = (
            f32(1, k), f32(32, k), f32(k, n))
        inputs[f"dy {k}x{n}"] = f32(1, n)
    inputs["v"] = f32(1, 64)
    f32(32, 2), f32(1, 4), f32(32, 4), f32(32, 1)  # reduce_mean's, the tape's, the Nadam steps'
    inputs["image"], inputs["filters"] = f32(1, 24, 24, 4), f32(3, 3, 4, 8)
    return inputs


def probe_outputs(tf):
    """``family -> [output arrays]``: the probes run with the TensorFlow module ``tf``."""
    inputs = probe_inputs()
    row, batch = [], []
    for k, n in MATMUL_SHAPES:
        w = inputs[f"w {k}x{n}"]
        row.append(tf.matmul(inputs[f"x1 {k}x{n}"], w).numpy())
        row.append(tf.matmul(inputs[f"dy {k}x{n}"], w, transpose_b=True).numpy())
        batch.append(tf.matmul(inputs[f"xb {k}x{n}"], w).numpy())
    image, filters = inputs["image"], inputs["filters"]
    return {
        "matmul_row": row,
        "matmul_batch": batch,
        "softmax": [tf.nn.softmax(inputs["v"]).numpy()],
        "conv2d": [tf.nn.conv2d(image, filters, strides=s, padding="SAME").numpy() for s in (1, 2)],
    }


def outputs_hash(arrays):
    """The first 16 hex digits of the sha256 of the arrays' float32 bytes, in order."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, np.float32).tobytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def probe_hashes():
    """``family -> hash`` of this process's probe outputs (TensorFlow runs the probes once)."""
    from homl_rl.tf_setup import tf

    return {family: outputs_hash(arrays) for family, arrays in probe_outputs(tf).items()}


def classify(hashes):
    """``family -> class`` for probe ``hashes`` (:data:`OTHER` where no class has that hash)."""
    return {family: next((name for name, known in KNOWN[family].items() if known == value), OTHER)
            for family, value in hashes.items()}


def kernel_families():
    """``family -> class`` of this process's kernels, e.g. ``{"matmul_row": "x86-avx512", ...}``."""
    return classify(probe_hashes())


def class_of(families):
    """The one class of ``families`` (a ``family -> class`` dict) if they agree, else :data:`OTHER`."""
    classes = set(families.values())
    return classes.pop() if len(classes) == 1 else OTHER


def kernel_class():
    """The class of float kernels this process runs: ``"x86-avx512"``, ``"x86-avx2"``, or
    ``"other"`` (a class nobody has measured, or a mix: under ``ONEDNN_MAX_CPU_ISA=AVX2``
    on an AVX-512 machine only some families change; :func:`kernel_families` tells which).
    Imports TensorFlow and runs the probes the first time (a few milliseconds)."""
    return class_of(kernel_families())


def kernels_record():
    """What results and data files record of the kernels: ``{"class": ..., "families": {...}}``
    (the families only where they do not all agree)."""
    families = kernel_families()
    record = {"class": class_of(families)}
    if record["class"] == OTHER:
        record["families"] = families
    return record


def main():
    """``python -m homl_rl.kernels``: this process's kernel class, then each family's."""
    families = kernel_families()
    print(class_of(families))
    for family, name in families.items():
        print(f"  {family}: {name}")


if __name__ == "__main__":
    main()
