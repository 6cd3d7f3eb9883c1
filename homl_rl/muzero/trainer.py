"""MuZero's trainer: the unrolled loss and one Adam step on it.

From each sampled position the representation gives the first hidden state; the dynamics
then unrolls ``num_unroll_steps`` times along the actions that were played. At each step the
prediction's value and policy, and (from step 1) the dynamics' reward, are scored by a
cross-entropy against their targets (the value and reward as supports, see
:func:`~homl_rl.muzero.networks.scalar_to_support`). As muzero-general does it:

- the gradient flowing into each hidden state the dynamics produced is halved (the paper's
  "scale the gradient at the start of the dynamics function");
- the gradients of the losses of steps 1..K are divided by ``min(K, moves left + 1)`` of
  their position (the losses' values are not);
- loss = value loss * ``value_loss_weight`` + reward loss + policy loss, times the PER
  weight, averaged over the batch;
- Adam with ``weight_decay * w`` added to each gradient (PyTorch Adam's L2 ``weight_decay``)
  and the learning rate ``lr_init * lr_decay_rate ** (training_step / lr_decay_steps)``.

The new priorities are ``|predicted value - value target| ** per_alpha`` of every step.
"""

import numpy as np

from homl_rl.muzero.networks import scalar_to_support, support_to_scalar
from homl_rl.tf_setup import tf


def scale_gradient(tensor, scale):
    """``tensor`` forward, ``scale`` times its gradient backward."""
    return tensor * scale + tf.stop_gradient(tensor) * (1 - scale)


def cross_entropy(targets, logits):
    """``-sum(targets * log_softmax(logits))`` over the last axis."""
    return -tf.reduce_sum(targets * tf.nn.log_softmax(logits, axis=-1), axis=-1)


class Trainer:
    """The trainer role: a :class:`~homl_rl.muzero.networks.MuZeroNetwork`, its Adam and the
    number of training steps done."""

    def __init__(self, config, network):
        self.config, self.network = config, network
        self.training_step = 0
        self.optimizer = tf.keras.optimizers.Adam(learning_rate=config.lr_init, epsilon=1e-8)
        self._train_step = tf.function(self._unrolled_step)

    def update_lr(self):
        """Set the learning rate for the next step (muzero-general's exponential decay)."""
        self.optimizer.learning_rate.assign(self.config.learning_rate(self.training_step))

    def update_weights(self, batch):
        """One training step on ``batch`` (``GameReplayBuffer.get_batch``'s dict); return the new
        priorities (batch, unroll steps + 1) and the losses (total, value, reward, policy)."""
        config = self.config
        self.update_lr()
        weights = batch["weights"]
        if weights is None:
            weights = np.ones(len(batch["observations"]), dtype=np.float32)
        losses, value_logits = self._train_step(
            tf.constant(batch["observations"]), tf.constant(batch["actions"]),
            tf.constant(scalar_to_support(batch["values"], config.support_size), tf.float32),
            tf.constant(scalar_to_support(batch["rewards"], config.support_size), tf.float32),
            tf.constant(batch["policies"]), tf.constant(weights),
            tf.constant(batch["gradient_scales"]))
        self.training_step += 1
        predicted = support_to_scalar(value_logits.numpy(), config.support_size)
        priorities = np.abs(predicted - batch["values"]) ** config.per_alpha
        total, value, reward, policy = (float(loss) for loss in losses.numpy())
        return priorities, {"total_loss": total, "value_loss": value, "reward_loss": reward,
                            "policy_loss": policy}

    def _unrolled_step(self, observations, actions, target_values, target_rewards,
                       target_policies, weights, gradient_scales):
        config, network = self.config, self.network
        variables = network.trainable_variables
        with tf.GradientTape() as tape:
            hidden_state = network.representation(observations)
            policy_logits, value_logits = network.prediction(hidden_state)
            value_loss = cross_entropy(target_values[:, 0], value_logits)
            policy_loss = cross_entropy(target_policies[:, 0], policy_logits)
            reward_loss = tf.zeros_like(value_loss)
            all_value_logits = [value_logits]
            for k in range(1, config.num_unroll_steps + 1):
                hidden_state, reward_logits = network.dynamics(hidden_state, actions[:, k])
                hidden_state = scale_gradient(hidden_state, 0.5)
                policy_logits, value_logits = network.prediction(hidden_state)
                all_value_logits.append(value_logits)
                step_losses = (cross_entropy(target_values[:, k], value_logits),
                               cross_entropy(target_rewards[:, k], reward_logits),
                               cross_entropy(target_policies[:, k], policy_logits))
                # gradients / gradient_scales, values unchanged
                step_losses = [loss / gradient_scales
                               + tf.stop_gradient(loss - loss / gradient_scales)
                               for loss in step_losses]
                value_loss += step_losses[0]
                reward_loss += step_losses[1]
                policy_loss += step_losses[2]
            loss = value_loss * config.value_loss_weight + reward_loss + policy_loss
            loss = tf.reduce_mean(loss * weights)
        gradients = tape.gradient(loss, variables)
        gradients = [gradient + config.weight_decay * variable
                     for gradient, variable in zip(gradients, variables)]
        self.optimizer.apply_gradients(zip(gradients, variables))
        losses = tf.stack([loss, tf.reduce_mean(value_loss), tf.reduce_mean(reward_loss),
                           tf.reduce_mean(policy_loss)])
        return losses, tf.stack(all_value_logits, axis=1)
