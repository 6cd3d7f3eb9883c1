"""A reader's chapter 18 code with classic mistakes: each is caught by its check, with a hint.

Try: python -m homl_rl crosscheck examples/crosscheck/reader_mistakes.py
"""
import numpy as np
import tensorflow as tf


def basic_policy(obs):
    angle = obs[2]
    return 1 if angle < 0 else 0  # MISTAKE: the actions are swapped


def discount_rewards(rewards, discount_factor):
    discounted = np.array(rewards)
    for step in range(1, len(rewards)):  # MISTAKE: discounts the past, not the future
        discounted[step] += discounted[step - 1] * discount_factor
    return discounted


def discount_and_normalize_rewards(all_rewards, discount_factor):
    result = []
    for rewards in all_rewards:  # MISTAKE: normalises each episode on its own
        discounted = discount_rewards(rewards, discount_factor)
        result.append((discounted - discounted.mean()) / discounted.std())
    return result


def exploration_policy(state):
    return np.random.choice(possible_actions[state])  # correct


def training_step(batch_size):  # plain DQN
    experiences = sample_experiences(batch_size)
    states, actions, rewards, next_states, dones, truncateds = experiences
    next_Q_values = model.predict(next_states, verbose=0)
    max_next_Q_values = next_Q_values.max(axis=1)
    target_Q_values = rewards + discount_factor * max_next_Q_values  # MISTAKE: no (dones | truncateds) mask
    target_Q_values = target_Q_values.reshape(-1, 1)
    mask = tf.one_hot(actions, n_outputs)
    with tf.GradientTape() as tape:
        all_Q_values = model(states)
        Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)
        loss = tf.reduce_mean(loss_fn(target_Q_values, Q_values))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


def training_step(batch_size):  # Double DQN
    experiences = sample_experiences(batch_size)
    states, actions, rewards, next_states, dones, truncateds = experiences
    next_Q_values = target.predict(next_states, verbose=0)  # MISTAKE: the target picks the action
    best_next_actions = next_Q_values.argmax(axis=1)
    next_mask = tf.one_hot(best_next_actions, n_outputs).numpy()
    max_next_Q_values = (target.predict(next_states, verbose=0) * next_mask).sum(axis=1)
    runs = 1.0 - (dones | truncateds)
    target_Q_values = rewards + runs * discount_factor * max_next_Q_values
    target_Q_values = target_Q_values.reshape(-1, 1)
    mask = tf.one_hot(actions, n_outputs)
    with tf.GradientTape() as tape:
        all_Q_values = model(states)
        Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)
        loss = tf.reduce_mean(loss_fn(target_Q_values, Q_values))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


def sample_experiences(batch_size):
    indices = np.random.randint(len(replay_buffer), size=batch_size)
    batch = [replay_buffer[index] for index in indices]
    return [
        np.array([experience[field_index] for experience in batch])
        for field_index in range(6)
    ]


def epsilon_greedy_policy(state, epsilon=0):
    if np.random.rand() > epsilon:  # MISTAKE: explores with probability 1 - epsilon
        return np.random.randint(n_outputs)
    else:
        Q_values = model.predict(state[np.newaxis], verbose=0)[0]
        return Q_values.argmax()


def play_one_step(env, obs, model, loss_fn):
    with tf.GradientTape() as tape:
        left_proba = model(obs[np.newaxis])
        action = (tf.random.uniform([1, 1]) > left_proba)
        y_target = tf.cast(action, tf.float32)  # MISTAKE: the target is 1 - action
        loss = tf.reduce_mean(loss_fn(y_target, left_proba))
    grads = tape.gradient(loss, model.trainable_variables)
    obs, reward, done, truncated, info = env.step(int(action[0, 0]))
    return obs, reward, done, truncated, grads


raw_advantages = tf.keras.layers.Dense(2)(tf.keras.layers.Input(shape=[4]))
state_values = tf.keras.layers.Dense(1)(tf.keras.layers.Input(shape=[4]))
advantages = raw_advantages - tf.reduce_mean(raw_advantages, axis=1, keepdims=True)  # MISTAKE
Q_values = state_values + advantages
