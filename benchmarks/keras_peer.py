"""The peer a reader of the Keras RNN-VAE material would write: the digits-vae shape in Keras 3 on TensorFlow.

    python benchmarks/keras_peer.py --threads 2 --steps 200          # needs tensorflow (and keras 3)

Run by `benchmarks/train_throughput.py --keras-python PYTHON` in its own interpreter, so seqgen's
requirements stay free of TensorFlow. The model mirrors seqgen's digits-vae preset: a bidirectional LSTM(128)
over the 28 rows, a 2-D latent, a decoder LSTM(128) whose state starts from z and that reads z at every row,
Bernoulli logits per pixel, loss = reconstruction + KL, Adam(2e-3) with gradients clipped to norm 5, batch 64.
One compiled train step (`tf.function`, what `model.fit` runs) is timed after `--warmup` steps. It prints
one JSON line: {"seconds", "steps", "batch", "threads", "precision"}. `--precision mixed_bfloat16` is Keras's
own mixed precision (bfloat16 compute, float32 weights), the counterpart of seqgen's bf16 autocast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DIGITS = Path(__file__).resolve().parent.parent / "seqgen" / "domains" / "data" / "digits.npz"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--precision", choices=["float32", "mixed_bfloat16"], default="float32")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
        import numpy as np
        import tensorflow as tf
    except ImportError as e:
        print(f"error: the Keras peer needs TensorFlow and Keras 3 in this interpreter ({e})", file=sys.stderr)
        return 2
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(args.precision)
    with np.load(DIGITS) as f:
        images = (f["images"][:4000].astype("float32") / 255.0 > 0.5).astype("float32")

    rows, hidden, latent = 28, 128, 2
    x_in = keras.Input((rows, 28))
    encoded = keras.layers.Bidirectional(keras.layers.LSTM(hidden))(x_in)
    stats = keras.layers.Dense(2 * latent)(encoded)
    z_in = keras.Input((latent,))
    state = keras.layers.Dense(2 * hidden, activation="tanh")(z_in)
    h0, c0 = keras.ops.split(state, 2, axis=-1)
    steps = keras.layers.RepeatVector(rows)(z_in)
    decoded = keras.layers.LSTM(hidden, return_sequences=True)(steps, initial_state=[h0, c0])
    logits = keras.layers.Dense(28)(decoded)
    encoder, decoder = keras.Model(x_in, stats), keras.Model(z_in, logits)
    weights = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(2e-3, global_clipnorm=5.0)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            mu, logvar = tf.split(tf.cast(encoder(x, training=True), "float32"), 2, axis=-1)
            z = mu + tf.random.normal(tf.shape(mu)) * tf.exp(0.5 * logvar)
            out = tf.cast(decoder(z, training=True), "float32")
            recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=out), axis=[1, 2])
            kl = tf.reduce_sum(0.5 * (tf.square(mu) + tf.exp(logvar) - 1.0 - logvar), axis=-1)
            loss = tf.reduce_mean(recon + kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    rng = np.random.default_rng(0)
    batches = [tf.constant(images[rng.integers(0, len(images), args.batch)]) for _ in range(32)]
    for i in range(args.warmup):
        train_step(batches[i % len(batches)])
    start = time.perf_counter()
    for i in range(args.steps):
        loss = train_step(batches[i % len(batches)])
    float(loss)  # the last step has finished
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "steps": args.steps, "batch": args.batch, "threads": args.threads,
                      "precision": args.precision}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
