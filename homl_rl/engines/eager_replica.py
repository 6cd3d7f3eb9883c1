"""NumPy replicas of the TensorFlow kernels that the notebook's eager steps run, bit for bit.

The notebook's policy-gradient cells play every environment step eagerly: a
batch-of-one forward pass, one stateful random op (``tf.random.uniform`` or
``tf.random.categorical``) and one ``GradientTape``. Those floats are the
reference, and they cost milliseconds a step. On a batch of one,
TensorFlow's CPU kernels run their scalar code paths; this module reproduces
them in NumPy, so the REINFORCE fast engine (:mod:`homl_rl.engines.policy_gradients`) can play
steps with a cheap forward pass and compute all the per-step gradients of an
iteration at once, with the same bits:

- :class:`EagerRandomReplica`: TF's stateful random ops without an op seed. Each
  asks the eager context for an op seed (``context._rng``, a ``random.Random``
  seeded by the global seed); its kernel, cached per seed pair, draws from a
  Philox4x32-10 stream and skips ahead after each call, so a repeated op seed
  continues the stream where the earlier kernel left it.
- :func:`fma32`, :func:`mul_add32` and :class:`RowMatmul`: float32 arithmetic and the
  one-row MatMul kernels, one replica per CPU class (:data:`ROW_MATMULS`): a ``Dense``
  layer's ``x @ W + b`` (one chain over the inputs, then the bias; fused multiply-adds on
  AVX-512, a product then a sum on AVX2), the MatMul gradient's ``dy @ W.T`` (eight lanes
  and each class's reduction tree), and a Dense stack's per-step gradients.
- :func:`expf`, :func:`logf`, :func:`sigmoid`: the C library's ``expf``/``logf``,
  which Eigen's scalar path calls, and Eigen's scalar logistic.
- :class:`NadamReplica`: Keras' eager ``Nadam.apply_gradients`` (elementwise IEEE
  float32 operations, subnormal results flushed to zero as TF's kernels flush them),
  for the DQN fast engine (:mod:`homl_rl.engines.dqn`).

The kernels differ between CPUs and TensorFlow builds: the one-row MatMul has a replica
for each CPU class measured (AVX-512, AVX2), and the start-up proof picks the one that is
exact on this machine.

None of this is trusted blindly:
:func:`homl_rl.engines.policy_gradients.fast_engine_is_exact` checks these
replicas against TensorFlow itself (eager tape, same model) before the fast
engine is used by default, and the notebook's engine is used when no replica
agrees (a CPU class nobody has measured, another TensorFlow build);
:func:`homl_rl.engines.dqn.nadam_replica_is_exact` does the same for the Nadam
replica, and Keras' own step is used when it disagrees.
"""

import ctypes
import ctypes.util
from dataclasses import dataclass
from typing import Callable

import numpy as np

from homl_rl.tf_setup import tf  # noqa: F401  (TensorFlow set up before its internals)
from tensorflow.python.eager import context  # noqa: E402

# --- Philox4x32-10 (tensorflow/core/lib/random/philox_random.h) ---------------

_MAXINT32 = 2 ** 31 - 1
"""TF's ``random_seed._MAXINT32``: op seeds are drawn in [0, 2**31 - 1] and truncated modulo it"""
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_U32 = 0xFFFFFFFF


def philox_block(key, counter):
    """One Philox4x32-10 block: four uint32 from a 64-bit ``key`` and a 128-bit ``counter``."""
    c0, c1 = counter & _U32, (counter >> 32) & _U32
    c2, c3 = (counter >> 64) & _U32, (counter >> 96) & _U32
    k0, k1 = key & _U32, (key >> 32) & _U32
    for round_index in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & _U32, (p0 >> 32) ^ c3 ^ k1, p0 & _U32)
        if round_index < 9:
            k0, k1 = (k0 + _W0) & _U32, (k1 + _W1) & _U32
    return c0, c1, c2, c3


def uint32_to_float(x):
    """TF's ``Uint32ToFloat``: 23 random mantissa bits, a float32 in [0, 1)."""
    return np.float32(np.uint32((x & 0x7FFFFF) | 0x3F800000).view(np.float32) - np.float32(1))


def uint64_to_double(x0, x1):
    """TF's ``Uint64ToDouble``: 52 random mantissa bits, a float64 in [0, 1)."""
    bits = ((x0 & 0xFFFFF) << 32) | x1 | (1023 << 52)
    return float(np.uint64(bits).view(np.float64)) - 1.0


class EagerRandomReplica:
    """Replays the eager ``tf.random.uniform([1, 1])`` and ``tf.random.categorical(logits, 1)``.

    Each call takes its op seed from TensorFlow's own eager context (so the
    context is left exactly where the real ops would leave it), and keeps the
    eager kernel cache's per-seed skip-ahead. Start it right after the global
    seed was set (``set_seeds``), which also clears TF's kernel cache.
    """

    UNIFORM_SKIP = 256
    """``ReserveRandomOutputs(1, 256)``: 128-bit samples a [1, 1] ``RandomUniform`` reserves"""
    CATEGORICAL_SKIP = 8 * 256
    """``ReserveRandomOutputs(1 * 8, 256)``: what a one-row, one-sample ``Multinomial`` reserves"""

    def __init__(self):
        self._context = context.context()
        self._uses = {}

    def _next_use(self, op_name):
        """What ``random_seed.get_seed(None)`` does in eager mode (inlined: it is called
        every step), then the kernel's use count for that seed pair."""
        global_seed = self._context._seed  # context.global_seed()
        if global_seed is None:
            raise RuntimeError("the eager random replica needs TensorFlow's global seed set")
        op_seed = self._context._rng.randint(0, _MAXINT32)  # context.internal_operation_seed()
        seed, seed2 = global_seed % _MAXINT32, op_seed % _MAXINT32
        if (seed, seed2) == (0, 0):
            seed, seed2 = 0, _MAXINT32
        use = self._uses.get((op_name, seed, seed2), 0)
        self._uses[(op_name, seed, seed2)] = use + 1
        return seed, seed2, use

    def uniform(self):
        """The next ``tf.random.uniform([1, 1])[0, 0]``, a NumPy float32."""
        return self.uniform_at(*self._next_use("RandomUniform"))

    def categorical_draw(self):
        """The next ``tf.random.categorical(logits, 1)``'s uniform float64 draw: the kernel
        returns ``upper_bound(cdf, draw * cdf[-1])`` (``cdf`` of ``exp(logits - max)``)."""
        return self.categorical_draw_at(*self._next_use("Multinomial"))

    @classmethod
    def uniform_at(cls, seed, seed2, use=0):
        """``RandomUniform`` [1, 1] from a kernel with seeds ``(seed, seed2)``, its ``use``-th call."""
        return uint32_to_float(philox_block(seed, (seed2 << 64) + use * cls.UNIFORM_SKIP)[0])

    @classmethod
    def categorical_draw_at(cls, seed, seed2, use=0):
        """A one-row, one-sample ``Multinomial`` kernel's draw, its ``use``-th call."""
        x0, x1, _, _ = philox_block(seed, (seed2 << 64) + use * cls.CATEGORICAL_SKIP)
        return uint64_to_double(x0, x1)


# --- float32 arithmetic as the CPU kernels do it ------------------------------

_TIE_MASK = np.int64(0x1FFFFFFF)
_TIE = np.int64(0x10000000)


def fma32(a, b, c):
    """``fma(a, b, c)`` in float32, rounded once, elementwise (NumPy has no FMA).

    The float64 product of two float32 is exact and the float64 sum is rounded
    once more than the hardware rounds; that can only matter where the float64
    sum lies exactly halfway between two float32 (or in float32's subnormal
    range): there the exact sum's side of the tie is recovered with TwoSum.
    """
    a, b, c = (np.asarray(v, np.float32) for v in (a, b, c))
    p = a.astype(np.float64) * b
    s = p + c
    r = s.astype(np.float32)
    suspicious = ((s.view(np.int64) & _TIE_MASK) == _TIE) | ((np.abs(s) < 2.0 ** -125) & (s != 0))
    if np.any(suspicious):
        p, c, s = (np.broadcast_to(v, r.shape)[suspicious] for v in (p, c.astype(np.float64), s))
        r[suspicious] = _round_sum_to_float32(p, c, s)
    return r


def _round_sum_to_float32(p, c, s):
    """``p + c`` (float64, exact operands) rounded once to float32, given ``s = fl64(p + c)``."""
    bb = s - p
    err = (p - (s - bb)) + (c - bb)  # exactly p + c - s
    r = s.astype(np.float32)
    r64 = r.astype(np.float64)
    d = s - r64
    other = np.nextafter(r, np.where(d > 0, np.float32(np.inf), np.float32(-np.inf)))
    tie = (d != 0) & (2 * d == other.astype(np.float64) - r64) & (err != 0)
    return np.where(tie & (np.sign(err) == np.sign(d)), other, r)


def mul_add32(a, b, c):
    """``a * b + c`` in float32, the product rounded, then the sum: two roundings (no FMA)."""
    a, b, c = (np.asarray(v, np.float32) for v in (a, b, c))
    return ((a * b).astype(np.float32) + c).astype(np.float32)


def _add32(u, v):
    return (u + v).astype(np.float32)


def _fused_lanes_transposed(dy, kernel):
    """AVX-512's ``dy @ kernel.T``: eight FMA chains (input ``k`` in lane ``k % 8``), summed
    ``((l0+l1)+(l4+l5)) + ((l2+l3)+(l6+l7))``, for ``dy`` rows of at most 4 or a multiple
    of 8 values (the widths checked against the kernel; others take another path there).

    (The order was read off the kernel with inputs that reveal it: ±2**34 at two
    positions, ones elsewhere; the sum tells how many ones the two big values'
    common subtree absorbed.)
    """
    if not _fused_lanes_width(kernel.shape[1]):
        raise ValueError(f"the AVX-512 one-row MatMul replica covers gradients of at most 4 or "
                         f"a multiple of 8 units, got {kernel.shape[1]}")
    lanes = [np.zeros(dy.shape[:-1] + kernel.shape[:1], np.float32) for _ in range(8)]
    for k in range(kernel.shape[1]):
        lanes[k % 8] = fma32(dy[..., k:k + 1], kernel[:, k], lanes[k % 8])
    l0, l1, l2, l3, l4, l5, l6, l7 = lanes
    return _add32(_add32(_add32(l0, l1), _add32(l4, l5)), _add32(_add32(l2, l3), _add32(l6, l7)))


def _fused_lanes_width(units):
    return units <= 4 or units % 8 == 0


def _outer_onto_zero(x, grad):
    """AVX-512's per-step kernel gradient ``x.T @ grad`` (one product an entry): an FMA onto
    0, so a zero product is +0."""
    return (x[:, :, None] * grad[:, None, :] + np.float32(0)).astype(np.float32)


def _outer(x, grad):
    """AVX2's per-step kernel gradient ``x.T @ grad``: the product itself, signed zeros kept."""
    return (x[:, :, None] * grad[:, None, :]).astype(np.float32)


def _blocked_lanes_transposed(dy, kernel):
    """AVX2's ``dy @ kernel.T``: the inputs in whole blocks of eight go to eight lanes (input
    ``k`` in lane ``k % 8``, a product then a sum), summed as a 256-bit horizontal add does,
    ``((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))``; the remaining inputs are then added one by
    one, a product then a sum. (Read off the AVX2 machine's arrays, every element equal.)
    """
    n = kernel.shape[1]
    whole = n - n % 8
    total = np.zeros(dy.shape[:-1] + kernel.shape[:1], np.float32)
    if whole:
        lanes = [total] * 8
        for k in range(whole):
            lanes[k % 8] = mul_add32(dy[..., k:k + 1], kernel[:, k], lanes[k % 8])
        l0, l1, l2, l3, l4, l5, l6, l7 = lanes
        total = _add32(_add32(_add32(l0, l4), _add32(l2, l6)), _add32(_add32(l1, l5), _add32(l3, l7)))
    for k in range(whole, n):
        total = mul_add32(dy[..., k:k + 1], kernel[:, k], total)
    return total


@dataclass(frozen=True)
class RowMatmul:
    """The one-row MatMul kernels of one CPU class, as the eager steps run them on a batch of
    one: a ``Dense`` layer's ``x @ W + b`` and its gradient's ``dy @ W.T``.

    The row's forward pass is one chain over the inputs in order, then the bias; the
    classes differ in the chain's step (``multiply_add``: one rounding with AVX-512's FMA,
    two with AVX2's kernel) and in the transposed product's lanes and reduction tree.
    """
    kernel_class: str
    """the class of CPU kernels it replicates (:func:`homl_rl.kernels.kernel_class`)"""
    multiply_add: Callable
    """the forward chain's step: ``acc = multiply_add(x[k], W[k], acc)``"""
    transposed: Callable
    """``dy @ W.T`` for rows of ``dy``"""
    outer: Callable
    """a step's kernel gradient ``x.T @ dy`` from rows of ``x`` and ``dy``"""
    supports_units: Callable = lambda units: True
    """whether ``transposed`` is known exact for a layer of that many units"""

    def dense(self, x, kernel, bias):
        """A ``Dense`` layer's ``x @ kernel + bias`` (before its activation), row by row."""
        x = np.asarray(x, np.float32)
        acc = np.zeros(x.shape[:-1] + kernel.shape[-1:], np.float32)
        for k in range(kernel.shape[0]):
            acc = self.multiply_add(x[..., k:k + 1], kernel[k], acc)
        return (acc + bias).astype(np.float32)

    def matmul_transposed(self, dy, kernel):
        """``dy @ kernel.T``, row by row, as the eager MatMul gradient computes it."""
        return self.transposed(np.asarray(dy, np.float32), kernel)

    def dense_gradients(self, x, kernels, hiddens, dlogits):
        """Every step's gradients of a ``Dense(relu)``... → ``Dense`` stack, from the gradient
        of the loss with respect to the last layer's output (``dlogits``), as the eager tape
        computes them on a batch of one: ``[dkernel_1, dbias_1, ..., dkernel_L, dbias_L]``.

        ``x`` (n, inputs) are the inputs, ``hiddens`` the ReLU outputs of the hidden
        layers. A kernel's gradient is one product per entry (:attr:`outer`), a bias's
        is the incoming gradient, and ``ReluGrad`` multiplies by the 0/1 mask.
        """
        inputs = [np.asarray(x, np.float32)] + list(hiddens)
        grads = []
        grad = np.asarray(dlogits, np.float32)
        for layer in range(len(kernels) - 1, -1, -1):
            grads[:0] = [self.outer(inputs[layer], grad), grad]
            if layer > 0:
                dh = self.matmul_transposed(grad, kernels[layer])
                grad = (dh * (inputs[layer] > 0).astype(np.float32)).astype(np.float32)
        return grads


ROW_MATMULS = {
    "x86-avx512": RowMatmul("x86-avx512", fma32, _fused_lanes_transposed, _outer_onto_zero,
                            _fused_lanes_width),
    "x86-avx2": RowMatmul("x86-avx2", mul_add32, _blocked_lanes_transposed, _outer),
}
"""The one-row MatMul replicas, by the kernel class they replicate (oneDNN's AVX-512 gemv
fuses; the kernel an AVX2 machine runs does not)."""


def relu(x):
    """TF's ``Relu`` (``max(x, 0)``)."""
    return np.where(x < 0, np.float32(0), x).astype(np.float32)


# --- the C library's expf / logf (Eigen's scalar path calls std::exp) --------

def _libm():
    name = ctypes.util.find_library("m") or "libm.so.6"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    for fn in ("expf", "logf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


LIBM = _libm()


def _vectorize(fn):
    ufunc = np.frompyfunc(fn, 1, 1)

    def apply(x):
        x = np.asarray(x, np.float32)
        return ufunc(x.astype(np.float64)).astype(np.float32)

    return apply


expf = _vectorize(LIBM.expf) if LIBM is not None else None
logf = _vectorize(LIBM.logf) if LIBM is not None else None

SIGMOID_EXP_HI = np.float32(16.6355324)
"""Eigen's ``scalar_logistic_op<float>`` clamps its argument here before ``exp``"""


def sigmoid(z):
    """TF's ``Sigmoid`` on a batch of one (Eigen's scalar path): ``e / (1 + e)``, ``e = exp(min(z, hi))``."""
    e = expf(np.minimum(np.asarray(z, np.float32), SIGMOID_EXP_HI))
    return (e / (np.float32(1) + e)).astype(np.float32)


# --- Keras' Nadam, as its eager apply_gradients computes it -------------------

SMALLEST_NORMAL32 = np.float32(2.0 ** -126)
"""float32's smallest normal number: TF's CPU kernels flush results below it to zero"""


def flush_subnormals(x):
    """``x`` (a float32 array, changed in place) with its subnormal numbers flushed to zero,
    sign kept: TensorFlow runs its CPU kernels with flush-to-zero and denormals-are-zero set."""
    small = np.abs(x) < SMALLEST_NORMAL32
    if small.any():
        x[small] *= np.float32(0)
    return x


_SCALAR_POWERS = {}
"""``(base, exponent) -> tf.pow(base, exponent)``, float32 scalars: TF's scalar ``Pow`` kernel
(the C library's ``powf`` here) computed once per step number and reused"""


def scalar_pow(base, exponent):
    """``tf.pow(base, exponent)`` on float32 scalars, as a NumPy float32 (TF computes it, once)."""
    key = (np.float32(base).tobytes(), np.float32(exponent).tobytes())
    power = _SCALAR_POWERS.get(key)
    if power is None:
        power = tf.pow(tf.constant(base, tf.float32), tf.constant(exponent, tf.float32)).numpy()
        _SCALAR_POWERS[key] = power
    return power


class NadamReplica:
    """Keras' ``Nadam.apply_gradients`` (Keras 2.15 and tf_keras 2.21, same code), eager, dense
    float32 gradients, in NumPy: the same float32 operations in the same order, once over all
    the variables concatenated instead of once per variable (the update is elementwise).

    Keras' ``update_step``, per variable, at step ``t = iterations + 1``::

        u_t = beta_1 * (1 - 0.5 * 0.96 ** t);  u_t_1 = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t                       (once a step: the first variable's update)
        u_product_t_1 = u_product * u_t_1;  beta_2_power = beta_2 ** t
        m += (g - m) * (1 - beta_1);  v += (g * g - v) * (1 - beta_2)
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2_power)
        variable -= (m_hat * lr) / (sqrt(v_hat) + epsilon)

    Each TF operation rounds to float32 once (IEEE: ``+``, ``-``, ``*``, ``/``, ``sqrt``), and its result is
    flushed to zero where subnormal, as TF's kernels do; the scalar powers come from TF's
    own ``Pow`` (:func:`scalar_pow`). The state (``m``, ``v``, ``u_product``, the step
    count) is read from the optimizer when the replica's step count is not the optimizer's
    ``iterations`` and written back after every step, so the optimizer is left as its own
    ``apply_gradients`` would leave it. :func:`homl_rl.engines.dqn.nadam_replica_is_exact`
    checks it against Keras before a training run uses it.
    """

    def __init__(self, optimizer, variables):
        self.optimizer = optimizer
        self.variables = list(variables)
        self.shapes = [tuple(variable.shape) for variable in self.variables]
        self.offsets = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])
        self.beta_1, self.beta_2, self.epsilon = (
            np.float32(value) for value in (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon))
        self.step_count = None  # not read from the optimizer yet
        self._read = self._write = None  # the compiled read and write, made on first use

    @staticmethod
    def supports(optimizer, variables):
        """Whether the replica computes ``optimizer.apply_gradients`` on ``variables``: a
        plain Keras ``Nadam`` (no weight decay, clipping, EMA, XLA, schedule or strategy) on
        float32 variables without constraints."""
        if type(optimizer) is not tf.keras.optimizers.Nadam:
            return False
        plain = (optimizer.weight_decay is None and optimizer.clipnorm is None
                 and optimizer.clipvalue is None and optimizer.global_clipnorm is None
                 and not optimizer.use_ema and not optimizer.jit_compile
                 and isinstance(optimizer._learning_rate, tf.Variable)
                 and not getattr(optimizer, "_mesh", None)
                 and not getattr(optimizer, "_run_with_dtensor", False)
                 and not tf.distribute.has_strategy()
                 and all(isinstance(value, (int, float))
                         for value in (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon)))
        return plain and all(variable.dtype == tf.float32 and variable.constraint is None
                             for variable in variables)

    def _read_state(self):
        """The optimizer's ``m``, ``v``, ``u_product`` and step count, concatenated."""
        optimizer = self.optimizer
        with tf.name_scope(optimizer.name or "optimizer"), tf.init_scope():
            optimizer.build(self.variables)  # m, v and u_product on first use, named as Keras does
        index = [optimizer._index_dict[optimizer._var_key(variable)] for variable in self.variables]
        self.m = np.concatenate([optimizer._momentums[i].numpy().ravel() for i in index])
        self.v = np.concatenate([optimizer._velocities[i].numpy().ravel() for i in index])
        self.u_product = optimizer._u_product.numpy()
        self.step_count = int(optimizer.iterations.numpy())
        if optimizer._u_product_counter != self.step_count + 1:
            raise RuntimeError("Nadam's u_product counter is out of step with its iterations "
                               f"({optimizer._u_product_counter} vs {self.step_count})")
        if self._write is None:
            slots = [(optimizer._momentums[i], optimizer._velocities[i]) for i in index]
            self._write = self._compile_write(slots)

    def _compile_read(self):
        """One compiled call reading the weights (concatenated), ``iterations`` and the learning
        rate: copies only, so compiling changes no bit (one call instead of eight eager ones)."""
        variables, optimizer = self.variables, self.optimizer

        def read():
            weights = tf.concat([tf.reshape(variable, [-1]) for variable in variables], axis=0)
            return weights, optimizer.iterations.read_value(), optimizer._learning_rate.read_value()

        return tf.function(read)

    def _compile_write(self, slots):
        """One compiled call writing the new weights, ``m``, ``v`` (concatenated) and
        ``u_product`` back, and counting the step in ``iterations``: copies only."""
        n = int(self.offsets[-1])
        pieces = list(zip(self.offsets[:-1], self.offsets[1:], self.shapes, self.variables, slots))
        optimizer = self.optimizer

        def write(weights, m, v, u_product):
            for start, stop, shape, variable, (m_slot, v_slot) in pieces:
                variable.assign(tf.reshape(weights[start:stop], shape))
                m_slot.assign(tf.reshape(m[start:stop], shape))
                v_slot.assign(tf.reshape(v[start:stop], shape))
            optimizer._u_product.assign(u_product)
            optimizer.iterations.assign_add(1)

        vector = tf.TensorSpec([n], tf.float32)
        return tf.function(write, input_signature=[vector, vector, vector,
                                                   tf.TensorSpec([], tf.float32)])

    def apply_gradients(self, grads):
        """One ``optimizer.apply_gradients(zip(grads, variables))``; ``grads`` dense, in order.
        Returns the new weights, concatenated."""
        optimizer = self.optimizer
        if self._read is None:
            self._read = self._compile_read()
        w, iterations, lr = (value.numpy() for value in self._read())
        if self.step_count is None or self.step_count != int(iterations):
            self._read_state()
        f32, flush = np.float32, flush_subnormals
        one, half = f32(1), f32(0.5)
        g = np.concatenate([np.asarray(grad, f32).ravel() for grad in grads])
        t = self.step_count + 1
        beta_1, beta_2, decay = self.beta_1, self.beta_2, f32(0.96)
        u_t = beta_1 * (one - half * scalar_pow(decay, t))
        u_t_1 = beta_1 * (one - half * scalar_pow(decay, t + 1))
        u_product_t = self.u_product * u_t
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = scalar_pow(beta_2, t)

        m = flush(self.m + flush(flush(g - self.m) * (one - beta_1)))
        v = flush(self.v + flush(flush(flush(g * g) - self.v) * (one - beta_2)))
        m_hat = flush(flush(flush(u_t_1 * m) / (one - u_product_t_1))
                      + flush(flush((one - u_t) * g) / (one - u_product_t)))
        v_hat = flush(v / (one - beta_2_power))
        w = flush(w - flush(flush(m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)))

        self.m, self.v, self.u_product, self.step_count = m, v, u_product_t, t
        self._write(w, m, v, u_product_t)
        optimizer._u_product_counter += 1
        return w
