"""Per-step schedules of the training: the learning rate and the center-loss weight.

Both are pure functions of the optimiser step (0-based, counted over the whole run), so a resumed run
follows the same curve as an uninterrupted one. Lengths are given in epochs and converted with the
number of optimiser steps per epoch.
"""
import math

LR_SCHEDULES = ("constant", "cosine", "step")


def warmup_factor(step, warmup_steps):
    """Linear ramp (step + 1) / warmup_steps, capped at 1 (1 when ``warmup_steps`` <= 0)."""
    return 1.0 if warmup_steps <= 0 else min(1.0, (step + 1) / warmup_steps)


def learning_rate(step, steps_per_epoch, epochs, base_lr, schedule="constant", warmup_epochs=0.0,
                  min_lr=0.0, decay_epochs=10, decay_factor=0.1):
    """The learning rate of optimiser step ``step``.

    A linear warm-up from ``base_lr / warmup_steps`` to ``base_lr`` over ``warmup_epochs``, then:
    "constant": ``base_lr``; "cosine": from ``base_lr`` down to ``min_lr`` over the remaining steps of
    ``epochs`` (Loshchilov & Hutter 2017, one cycle); "step": ``base_lr * decay_factor ** k`` after
    ``k`` times ``decay_epochs`` epochs, never below ``min_lr``.
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: {', '.join(LR_SCHEDULES)}")
    warmup = round(warmup_epochs * steps_per_epoch)
    if step < warmup:
        return base_lr * warmup_factor(step, warmup)
    if schedule == "cosine":
        progress = min(1.0, (step - warmup) / max(1, epochs * steps_per_epoch - warmup))
        return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
    if schedule == "step":
        return max(min_lr, base_lr * decay_factor ** (step // max(1, round(decay_epochs * steps_per_epoch))))
    return base_lr


def options_learning_rate(opts, step, steps_per_epoch):
    """:func:`learning_rate` of step ``step`` as the TrainOptions ``opts`` (--learning-rate,
    --lr-schedule, --warmup-epochs, ...) set it, for ``steps_per_epoch`` optimiser steps an epoch."""
    return learning_rate(step, steps_per_epoch, opts.epochs, opts.learning_rate, opts.lr_schedule,
                         opts.warmup_epochs, opts.min_learning_rate, opts.lr_decay_epochs, opts.lr_decay_factor)


def center_loss_weight(step, steps_per_epoch, weight, warmup_epochs=0.0):
    """lambda at optimiser step ``step``: ramped linearly from ``weight / warmup_steps`` to ``weight``
    over ``warmup_epochs`` (0: ``weight`` from the start)."""
    return weight * warmup_factor(step, round(warmup_epochs * steps_per_epoch))
