"""tf.keras 2-D U-Net of the reference TensorFlow training script (pymia's TensorFlow example network).

Example code, not part of :mod:`pymia`. Inputs are channel-last ``(B, Y, X, C)`` as pymia's samples;
any spatial size works (upsampled maps are zero-padded to the skip connection's size).
"""

from __future__ import annotations

import tensorflow as tf

keras = tf.keras


class PadToReference(keras.layers.Layer):
    """Zero-pad ``inputs[0]`` at the end of Y and X to the spatial size of ``inputs[1]``."""

    def call(self, inputs):
        """Padded tensor with the spatial size of the reference."""
        tensor, reference = inputs
        missing_y = tf.shape(reference)[1] - tf.shape(tensor)[1]
        missing_x = tf.shape(reference)[2] - tf.shape(tensor)[2]
        return tf.pad(tensor, [[0, 0], [0, missing_y], [0, missing_x], [0, 0]])


def build_unet(channels: int = 2, num_classes: int = 6, *, layer_depth: int = 3, filters_root: int = 16,
               dropout_rate: float = 0.0) -> keras.Model:
    """U-Net as in pymia's TensorFlow example: ``layer_depth − 1`` poolings, no batch norm.

    Per level two 3×3 convolutions (same padding, bias, ReLU, optional dropout); filters
    ``filters_root · 2^level`` (16, 32 and a 64-filter bottleneck with the defaults); the decoder
    uses 2×2 stride-2 transposed convolutions with ReLU, pads to the skip, concatenates
    ``[skip, up]`` and applies two convolutions; a 1×1 convolution gives the logits. 116,982
    parameters for 2 channels, 6 classes, depth 3, 16 root filters.

    Returns
    -------
    keras.Model
        Maps ``(B, Y, X, channels)`` float32 to logits ``(B, Y, X, num_classes)``.
    """
    inputs = keras.Input(shape=(None, None, channels), name="images")

    def convolutions(x, filters: int, name: str):
        for i in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
            if dropout_rate > 0:
                x = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout{i}")(x)
        return x

    x = inputs
    skips = []
    for level in range(layer_depth):
        if level > 0:
            x = keras.layers.MaxPooling2D(2, name=f"pool{level}")(x)
        x = convolutions(x, filters_root * 2**level, f"down{level}")
        skips.append(x)
    for level in reversed(range(layer_depth - 1)):
        filters = filters_root * 2**level
        up = keras.layers.Conv2DTranspose(filters, 2, strides=2, activation="relu", name=f"up{level}_transpose")(x)
        up = PadToReference(name=f"up{level}_pad")([up, skips[level]])
        x = keras.layers.Concatenate(name=f"up{level}_concat")([skips[level], up])
        x = convolutions(x, filters, f"up{level}")
    logits = keras.layers.Conv2D(num_classes, 1, name="logits")(x)
    return keras.Model(inputs, logits, name="unet2d")
